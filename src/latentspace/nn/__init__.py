"""Torch modules only: layers and kernels, MLP and conv encoder/decoder pairs, likelihoods p(x|z), and
the models that own their loss.

    backend.py      the linear kernel chosen for the machine
    mlp.py          MLP encoder and mirrored decoder; seeded initialisation
    conv.py         convolutional encoder and mirrored decoder for any image shape
    likelihoods.py  squared error, Bernoulli, continuous Bernoulli, Gaussian
    priors.py       priors p(z), each a mixture of diagonal Gaussians: N(0, I), the VampPrior
    models.py       ``Autoencoder`` and ``VariationalAutoencoder`` (with its prior)
    variants.py     the families' objectives: IWAE, beta-TCVAE, RAE and WAE-MMD
"""
