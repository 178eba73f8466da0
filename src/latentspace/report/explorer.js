/* latentspace's latent explorer: a decoder's forward pass in plain JavaScript, and the page around it.
 *
 * Each <div class="ls-explorer" data-explorer> holds a JSON block written by
 * latentspace/report/explorer.py: the data (held-out points and labels, stored training rows for
 * the nearest-example search, how to display a row) and, per model, the decoder as a list of
 * operations with base64 weights. No network, no library: it runs from file://.
 * window.latentExplorers lists the explorers of the page (tests and benchmarks drive them).
 */
(function () {
  "use strict";
  if (window.LatentExplorer) { window.LatentExplorer.initAll(); return; }

  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"];
  var STRIP = 10;  // decoded points along an interpolation, ends included

  // ---- arrays ------------------------------------------------------------------------------------
  var halfTable = null;
  function halfToFloat() {
    if (halfTable) return halfTable;
    halfTable = new Float32Array(65536);
    for (var h = 0; h < 65536; h++) {
      var sign = (h & 0x8000) ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
      halfTable[h] = e === 0 ? sign * f * Math.pow(2, -24)
        : e === 31 ? (f ? NaN : sign * Infinity) : sign * (1 + f / 1024) * Math.pow(2, e - 15);
    }
    return halfTable;
  }
  function bytesOf(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function unpack(p) {
    var bytes = bytesOf(p.data);
    if (p.dtype === "u8") return bytes;
    if (p.dtype === "f32") return new Float32Array(bytes.buffer, 0, bytes.length / 4);
    var h = new Uint16Array(bytes.buffer, 0, bytes.length / 2), table = halfToFloat(), out = new Float32Array(h.length);
    for (var i = 0; i < h.length; i++) out[i] = table[h[i]];
    return out;
  }
  function prod(shape) { return shape.reduce(function (a, b) { return a * b; }, 1); }

  // ---- the forward pass ----------------------------------------------------------------------------
  function erf(x) {  // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7
    var s = x < 0 ? -1 : 1; x = Math.abs(x);
    var t = 1 / (1 + 0.3275911 * x);
    var y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return s * y;
  }
  var ACTIVATIONS = {
    relu: function () { return function (v) { return v > 0 ? v : 0; }; },
    leaky_relu: function (op) { var a = op.slope; return function (v) { return v > 0 ? v : a * v; }; },
    elu: function (op) { var a = op.alpha; return function (v) { return v > 0 ? v : a * Math.expm1(v); }; },
    gelu: function () { return function (v) { return 0.5 * v * (1 + erf(v / Math.SQRT2)); }; },
    gelu_tanh: function () {
      var c = Math.sqrt(2 / Math.PI);
      return function (v) { return 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v))); };
    },
    silu: function () { return function (v) { return v / (1 + Math.exp(-v)); }; },
    tanh: function () { return Math.tanh; },
    sigmoid: function () { return function (v) { return 1 / (1 + Math.exp(-v)); }; }
  };

  function linearStep(op, n) {
    var w = unpack(op.w), b = unpack(op.b), nOut = op.w.shape[0], nIn = op.w.shape[1];
    if (nIn !== n) throw new Error("linear layer expects " + nIn + " inputs, gets " + n);
    // Stored (in, out): y += x_i * row_i, so inputs that are 0 (about half of them after a ReLU) cost nothing.
    var wt = new Float32Array(nIn * nOut);
    for (var o = 0; o < nOut; o++) for (var i = 0; i < nIn; i++) wt[i * nOut + o] = w[o * nIn + i];
    var y = new Float64Array(nOut);
    return {shape: [nOut], run: function (x) {
      for (var o = 0; o < nOut; o++) y[o] = b[o];
      for (var i = 0; i < nIn; i++) {
        var v = x[i];
        if (v === 0) continue;
        for (var off = i * nOut, o2 = 0; o2 < nOut; o2++) y[o2] += v * wt[off + o2];
      }
      return y;
    }};
  }

  function deconvStep(op, shape) {  // ConvTranspose2d, weight (C_in, C_out, kH, kW)
    var w = unpack(op.w), b = unpack(op.b), C = shape[0], H = shape[1], W = shape[2];
    var Co = op.w.shape[1], kh = op.w.shape[2], kw = op.w.shape[3];
    var sh = op.stride[0], sw = op.stride[1], ph = op.padding[0], pw = op.padding[1];
    var Ho = (H - 1) * sh - 2 * ph + kh + op.output_padding[0], Wo = (W - 1) * sw - 2 * pw + kw + op.output_padding[1];
    if (op.w.shape[0] !== C) throw new Error("transposed convolution expects " + op.w.shape[0] + " channels, gets " + C);
    // Weights as (C_in, kH, kW, C_out) and the sum kept channels-last, so the innermost loop runs over
    // output channels through contiguous memory; inputs that are 0 (after a ReLU) are skipped.
    var wt = new Float32Array(C * kh * kw * Co);
    for (var a = 0; a < C; a++) for (var c = 0; c < Co; c++) for (var u = 0; u < kh * kw; u++) {
      wt[(a * kh * kw + u) * Co + c] = w[(a * Co + c) * kh * kw + u];
    }
    var plane = Ho * Wo, acc = new Float64Array(plane * Co), y = new Float64Array(Co * plane);
    return {shape: [Co, Ho, Wo], run: function (x) {
      for (var p = 0; p < plane; p++) for (var co = 0; co < Co; co++) acc[p * Co + co] = b[co];
      for (var ci = 0; ci < C; ci++) for (var iy = 0; iy < H; iy++) for (var ix = 0; ix < W; ix++) {
        var v = x[(ci * H + iy) * W + ix];
        if (v === 0) continue;
        for (var ky = 0; ky < kh; ky++) {
          var oy = iy * sh - ph + ky;
          if (oy < 0 || oy >= Ho) continue;
          for (var kx = 0; kx < kw; kx++) {
            var ox = ix * sw - pw + kx;
            if (ox < 0 || ox >= Wo) continue;
            var ab = (oy * Wo + ox) * Co, wb = ((ci * kh + ky) * kw + kx) * Co;
            for (var o = 0; o < Co; o++) acc[ab + o] += v * wt[wb + o];
          }
        }
      }
      for (p = 0; p < plane; p++) for (co = 0; co < Co; co++) y[co * plane + p] = acc[p * Co + co];
      return y;
    }};
  }

  function groupNormStep(op, shape) {
    var w = unpack(op.w), b = unpack(op.b), C = shape[0], hw = shape[1] * shape[2], G = op.groups, per = C / G;
    var y = new Float64Array(C * hw);
    return {shape: shape, run: function (x) {
      for (var g = 0; g < G; g++) {
        var start = g * per * hw, end = start + per * hw, mean = 0, vr = 0, i;
        for (i = start; i < end; i++) mean += x[i];
        mean /= (end - start);
        for (i = start; i < end; i++) vr += (x[i] - mean) * (x[i] - mean);
        var inv = 1 / Math.sqrt(vr / (end - start) + op.eps);
        for (i = start; i < end; i++) { var c = Math.floor(i / hw); y[i] = (x[i] - mean) * inv * w[c] + b[c]; }
      }
      return y;
    }};
  }

  function elementwise(shape, fn) {
    var y = new Float64Array(prod(shape));
    return {shape: shape, run: function (x) { for (var i = 0; i < y.length; i++) y[i] = fn(x[i], i); return y; }};
  }

  function compileStep(op, shape) {
    var n = prod(shape);
    if (op.op === "linear") return linearStep(op, n);
    if (op.op === "deconv") return deconvStep(op, shape);
    if (op.op === "groupnorm") return groupNormStep(op, shape);
    if (op.op === "reshape") {
      if (prod(op.shape) !== n) throw new Error("cannot reshape " + n + " numbers to " + op.shape);
      return {shape: op.shape, run: function (x) { return x; }};
    }
    if (op.op === "act") {
      if (!ACTIVATIONS[op.fn]) throw new Error("unknown activation " + op.fn);
      var f = ACTIVATIONS[op.fn](op);
      return elementwise(shape, function (v) { return f(v); });
    }
    if (op.op === "channel_affine") {
      var sc = unpack(op.scale), sf = unpack(op.shift), hw = n / shape[0];
      return elementwise(shape, function (v, i) { var c = Math.floor(i / hw); return v * sc[c] + sf[c]; });
    }
    if (op.op === "affine") {
      var s = unpack(op.scale), t = unpack(op.shift);
      return elementwise(shape, function (v, i) { return v * s[i] + t[i]; });
    }
    if (op.op === "mean" && op.fn === "continuous_bernoulli") {
      var tb = op.taylor_below;
      return elementwise(shape, function (v) {
        var m = Math.abs(v) < tb ? 0.5 + v / 12 - v * v * v / 720 : -1 / Math.expm1(-v) - 1 / v;
        return Math.min(1, Math.max(0, m));
      });
    }
    throw new Error("unknown decoder operation " + op.op);
  }

  /* A conditional model's decoder reads the code and then the class's one-hot: nClasses more inputs. */
  function compileDecoder(ops, k, nClasses) {
    var shape = [k + nClasses], steps = [];
    ops.forEach(function (op) { var step = compileStep(op, shape); steps.push(step); shape = step.shape; });
    var input = new Float64Array(k + nClasses);
    return function (z, cls) {  // returns a buffer the next call overwrites
      for (var i = 0; i < k; i++) input[i] = z[i];
      for (i = 0; i < nClasses; i++) input[k + i] = i === cls ? 1 : 0;
      var x = input;
      for (var s = 0; s < steps.length; s++) x = steps[s].run(x);
      return x;
    };
  }

  // ---- random numbers for the sample button ---------------------------------------------------------
  function mulberry32(seed) {
    return function () {
      seed |= 0; seed = seed + 0x6D2B79F5 | 0;
      var t = Math.imul(seed ^ seed >>> 15, 1 | seed);
      t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
      return ((t ^ t >>> 14) >>> 0) / 4294967296;
    };
  }
  function gauss(rand) { return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()); }

  // ---- helpers for the page -------------------------------------------------------------------------
  function el(tag, attrs, parent) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (a) {
      if (a === "text") e.textContent = attrs[a]; else e.setAttribute(a, attrs[a]);
    });
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) { return (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)); }

  function Explorer(root) {
    var spec = JSON.parse(root.querySelector("script.ls-explorer-data").textContent);
    this.root = root;
    this.data = spec.data;
    this.specs = spec.models;
    this.models = spec.models.map(function (m) { return this.prepareModel(m); }, this);
    this.prepareData();
    this.rand = mulberry32(1);
    this.pins = [];
    this.build();
    this.select(0);
  }

  Explorer.prototype.prepareModel = function (m) {
    var k = m.k, pts = unpack(m.points), mDims = m.plane.axes.length, classes = m.classes || [];
    var model = {spec: m, k: k, points: pts, mDims: mDims, classes: classes, cls: m.class_start || 0,
                 weights: unpack(m.sampler.weights), means: unpack(m.sampler.means), chol: unpack(m.sampler.chol),
                 background: null, z: new Float64Array(m.start)};
    var decode = compileDecoder(m.ops, k, classes.length);
    // decodes as the class picked (model.cls) unless told which
    model.decode = function (z, cls) { return decode(z, cls === undefined ? model.cls : cls); };
    return model;
  };

  Explorer.prototype.prepareData = function () {
    var d = this.data, r = d.reference, q = unpack(r.q), lo = unpack(r.lo), step = unpack(r.step), nF = d.n_features;
    this.nRef = r.index.length;
    this.ref = new Float64Array(this.nRef * nF);
    for (var i = 0; i < this.nRef; i++) for (var j = 0; j < nF; j++) this.ref[i * nF + j] = lo[j] + q[i * nF + j] * step[j];
    this.refLabels = r.labels || null;
    // Rows are in the user's units; distances in the models' scale (per-feature), where units compare.
    this.distanceScale = d.distance_scale ? unpack(d.distance_scale) : null;
    if (!d.image_shape) { this.featureLo = unpack(d.feature_lo); this.featureHi = unpack(d.feature_hi); }
  };

  /* The stored training row nearest to x (Euclidean, in the models' scale): {row, index, distance}. */
  Explorer.prototype.nearest = function (x) {
    var nF = this.data.n_features, ref = this.ref, best = Infinity, bestRow = -1, sc = this.distanceScale;
    for (var r = 0; r < this.nRef; r++) {
      var off = r * nF, d = 0;
      for (var j = 0; j < nF && d < best; j++) {
        var t = sc ? (x[j] - ref[off + j]) / sc[j] : x[j] - ref[off + j];
        d += t * t;
      }
      if (d < best) { best = d; bestRow = r; }
    }
    return {row: bestRow, index: this.data.reference.index[bestRow], distance: Math.sqrt(best)};
  };

  Explorer.prototype.labelName = function (label) {
    var names = this.data.label_names;
    return names && names[label] !== undefined ? names[label] : String(label);
  };

  // ---- layout -----------------------------------------------------------------------------------------
  Explorer.prototype.build = function () {
    var root = this.root, self = this;
    var bar = el("div", {"class": "ls-bar"}, root);
    var label = el("label", {text: "model "}, bar);
    this.selector = el("select", {"data-role": "model"}, label);
    this.specs.forEach(function (m, i) { el("option", {value: String(i), text: m.name + " (" + m.kind + ", k=" + m.k + ")"}, self.selector); });
    this.selector.addEventListener("change", function () { self.select(Number(self.selector.value)); });
    this.classLabel = el("label", {text: " class "}, bar);
    this.classSelector = el("select", {"data-role": "class", "aria-label": "the class the decoder is conditioned on"},
                            this.classLabel);
    this.classSelector.addEventListener("change", function () { self.pickClass(Number(self.classSelector.value)); });
    this.sampleButton = el("button", {type: "button", "data-role": "sample", text: "sample"}, bar);
    this.sampleButton.addEventListener("click", function () { self.sample(); });
    this.info = el("span", {"class": "ls-info", "data-role": "info"}, bar);

    var main = el("div", {"class": "ls-main"}, root);
    var left = el("div", {"class": "ls-mapbox"}, main);
    this.map = el("canvas", {width: "440", height: "440", tabindex: "0", "data-role": "map",
                             "aria-label": "latent map: drag, hover or use the arrow keys"}, left);
    this.mapNote = el("div", {"class": "ls-note", "data-role": "map-note"}, left);
    this.legend = el("div", {"class": "ls-legend", "data-role": "legend"}, left);

    var right = el("div", {"class": "ls-view"}, main);
    var pair = el("div", {"class": "ls-pair"}, right);
    var f1 = el("figure", {}, pair);
    this.decoded = el("canvas", {"data-role": "decoded"}, f1);
    el("figcaption", {text: "decoded"}, f1);
    var f2 = el("figure", {}, pair);
    this.nearestCanvas = el("canvas", {"data-role": "nearest"}, f2);
    this.nearestCaption = el("figcaption", {"data-role": "nearest-caption"}, f2);
    this.readout = el("div", {"class": "ls-note", "data-role": "feature-readout",
                              text: this.data.image_shape ? "" : "Hover a bar: the feature and its value."}, right);
    this.codeLine = el("div", {"class": "ls-code", "data-role": "code"}, right);
    this.sliders = el("div", {"class": "ls-sliders", "data-role": "sliders"}, right);

    var stripBox = el("div", {"class": "ls-stripbox"}, root);
    this.stripNote = el("div", {"class": "ls-note", text: "Click two points on the map: the strip shows the decoded straight line between them, each with its nearest training example."}, stripBox);
    this.strip = el("div", {"class": "ls-strip", "data-role": "strip"}, stripBox);
    this.bindMap();
  };

  Explorer.prototype.select = function (i) {
    this.current = this.models[i];
    this.selector.value = String(i);
    this.pins = [];
    this.strip.innerHTML = "";
    this.buildSliders();
    this.buildLegend();
    this.buildClasses();
    var m = this.current.spec, share = m.plane.share;
    this.mapNote.textContent = m.k > 2
      ? "Map: the codes' first two principal axes (" + share.map(function (s) { return (100 * s).toFixed(0) + "%"; }).join(", ") +
        " of their variance); the other directions are set by the sliders. Shaded: " + m.sampler.kind + "."
      : "Map: the codes themselves. Shaded: " + m.sampler.kind + ".";
    this.update();
  };

  Explorer.prototype.buildSliders = function () {
    var self = this, m = this.current, spec = m.spec;
    this.sliders.innerHTML = "";
    this.sliderInputs = [];
    for (var j = 0; j < m.k; j++) {
      var row = el("label", {"class": "ls-slider"}, this.sliders);
      el("span", {text: "z" + (j + 1)}, row);
      var input = el("input", {type: "range", min: String(spec.slider_lo[j]), max: String(spec.slider_hi[j]),
                                step: String((spec.slider_hi[j] - spec.slider_lo[j]) / 400), "data-dim": String(j)}, row);
      var value = el("output", {}, row);
      input.addEventListener("input", (function (dim, inp) {
        return function () { m.z[dim] = Number(inp.value); self.update(dim); };
      })(j, input));
      this.sliderInputs.push({input: input, value: value});
    }
  };

  /* The class picker: shown for a conditional model only, listing the classes its decoder knows. */
  Explorer.prototype.buildClasses = function () {
    var self = this, m = this.current;
    this.classSelector.innerHTML = "";
    this.classLabel.style.display = m.classes.length ? "" : "none";
    m.classes.forEach(function (name, i) { el("option", {value: String(i), text: name}, self.classSelector); });
    if (m.classes.length) this.classSelector.value = String(m.cls);
  };

  Explorer.prototype.pickClass = function (i) {
    this.current.cls = i;
    this.classSelector.value = String(i);
    if (this.pins.length === 2) this.renderStrip();
    this.update();
  };

  Explorer.prototype.buildLegend = function () {
    var self = this, labels = this.data.labels;
    this.legend.innerHTML = "";
    if (!labels) return;
    var seen = Array.from(new Set(labels)).sort(function (a, b) { return a - b; });
    seen.forEach(function (label) {
      var item = el("span", {"class": "ls-key"}, self.legend);
      el("i", {style: "background:" + PALETTE[label % PALETTE.length]}, item);
      item.appendChild(document.createTextNode(self.labelName(label)));
    });
  };

  // ---- the map ----------------------------------------------------------------------------------------
  Explorer.prototype.toPixel = function (u) {
    var e = this.current.spec.extent, W = this.map.width, H = this.map.height;
    return [(u[0] - e[0]) / (e[1] - e[0]) * W, H - ((u.length > 1 ? u[1] : 0) - e[2]) / (e[3] - e[2]) * H];
  };
  Explorer.prototype.fromPixel = function (px, py) {
    var e = this.current.spec.extent, W = this.map.width, H = this.map.height;
    return [e[0] + px / W * (e[1] - e[0]), e[2] + (H - py) / H * (e[3] - e[2])];
  };
  Explorer.prototype.project = function (z) {
    var p = this.current.spec.plane, u = [0, 0];
    for (var a = 0; a < p.axes.length; a++) for (var j = 0; j < z.length; j++) u[a] += (z[j] - p.center[j]) * p.axes[a][j];
    return u;
  };
  /* Move the point to map coordinates u, keeping the code's part off the plane (the sliders' part). */
  Explorer.prototype.moveTo = function (u) {
    var m = this.current, p = m.spec.plane, cur = this.project(m.z);
    for (var a = 0; a < p.axes.length; a++) for (var j = 0; j < m.k; j++) m.z[j] += (u[a] - cur[a]) * p.axes[a][j];
    this.update();
  };

  Explorer.prototype.density = function (u) {
    var comps = this.current.spec.density, total = 0;
    for (var c = 0; c < comps.length; c++) {
      var comp = comps[c], dx = u[0] - comp.mean[0];
      if (comp.mean.length === 1) {
        total += comp.w * Math.exp(-0.5 * dx * dx / comp.cov[0][0]) / Math.sqrt(2 * Math.PI * comp.cov[0][0]);
        continue;
      }
      var a = comp.cov[0][0], b = comp.cov[0][1], d = comp.cov[1][1], det = a * d - b * b, dy = u[1] - comp.mean[1];
      var q = (d * dx * dx - 2 * b * dx * dy + a * dy * dy) / det;
      total += comp.w * Math.exp(-0.5 * q) / (2 * Math.PI * Math.sqrt(det));
    }
    return total;
  };

  Explorer.prototype.background = function () {
    var m = this.current;
    if (m.background) return m.background;
    var W = this.map.width, H = this.map.height, canvas = document.createElement("canvas");
    canvas.width = W; canvas.height = H;
    var ctx = canvas.getContext("2d"), cells = 110, values = new Float64Array(cells * cells), max = 0;
    for (var gy = 0; gy < cells; gy++) for (var gx = 0; gx < cells; gx++) {
      var v = this.density(this.fromPixel((gx + 0.5) * W / cells, (gy + 0.5) * H / cells));
      values[gy * cells + gx] = v; max = Math.max(max, v);
    }
    // The density at cell resolution, then scaled up smoothly: white where no data is, blue where it is.
    var small = document.createElement("canvas");
    small.width = cells; small.height = cells;
    var sctx = small.getContext("2d"), img = sctx.createImageData(cells, cells);
    for (var i = 0; i < values.length; i++) {
      var a = 0.6 * Math.sqrt(values[i] / (max || 1));
      img.data[4 * i] = Math.round(255 - a * (255 - 90)); img.data[4 * i + 1] = Math.round(255 - a * (255 - 127));
      img.data[4 * i + 2] = Math.round(255 - a * (255 - 168)); img.data[4 * i + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, W, H);
    var labels = this.data.labels, pts = m.points, dims = m.mDims;
    for (var p = 0; p < pts.length / dims; p++) {
      var xy = this.toPixel(dims > 1 ? [pts[p * dims], pts[p * dims + 1]] : [pts[p], 0]);
      ctx.fillStyle = labels ? PALETTE[labels[p] % PALETTE.length] : "#333";
      ctx.globalAlpha = 0.8;
      ctx.fillRect(xy[0] - 1.5, xy[1] - 1.5, 3, 3);
    }
    ctx.globalAlpha = 1;
    m.background = canvas;
    return canvas;
  };

  Explorer.prototype.drawMap = function () {
    var ctx = this.map.getContext("2d"), self = this;
    ctx.drawImage(this.background(), 0, 0);
    var pins = this.pins.map(function (z) { return self.toPixel(self.project(z)); });
    if (pins.length === 2) {
      ctx.strokeStyle = "#c0392b"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.moveTo(pins[0][0], pins[0][1]); ctx.lineTo(pins[1][0], pins[1][1]); ctx.stroke();
    }
    pins.forEach(function (p, i) {
      ctx.fillStyle = "#c0392b"; ctx.beginPath(); ctx.arc(p[0], p[1], 5, 0, 2 * Math.PI); ctx.fill();
      ctx.fillStyle = "#fff"; ctx.font = "bold 9px sans-serif"; ctx.fillText(i ? "B" : "A", p[0] - 3, p[1] + 3);
    });
    var c = this.toPixel(this.project(this.current.z));
    ctx.strokeStyle = "#111"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.arc(c[0], c[1], 7, 0, 2 * Math.PI); ctx.moveTo(c[0] - 11, c[1]); ctx.lineTo(c[0] + 11, c[1]);
    ctx.moveTo(c[0], c[1] - 11); ctx.lineTo(c[0], c[1] + 11); ctx.stroke();
  };

  Explorer.prototype.bindMap = function () {
    var self = this, map = this.map, drag = null;
    function at(e) {
      var r = map.getBoundingClientRect();
      return [(e.clientX - r.left) * map.width / r.width, (e.clientY - r.top) * map.height / r.height];
    }
    map.addEventListener("pointerdown", function (e) {
      var p = at(e);
      drag = {x: p[0], y: p[1], moved: false};
      if (map.setPointerCapture) { try { map.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ } }
      map.focus();
      self.moveTo(self.fromPixel(p[0], p[1]));
      e.preventDefault();
    });
    map.addEventListener("pointermove", function (e) {
      var p = at(e);
      if (drag && Math.abs(p[0] - drag.x) + Math.abs(p[1] - drag.y) > 3) drag.moved = true;
      if (drag || e.buttons === 0) self.moveTo(self.fromPixel(p[0], p[1]));
    });
    map.addEventListener("pointerup", function () {
      if (drag && !drag.moved) self.pin();
      drag = null;
    });
    map.addEventListener("pointercancel", function () { drag = null; });
    map.addEventListener("keydown", function (e) {
      var keys = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1]}, d = keys[e.key];
      if (e.key === "Enter" || e.key === " ") { self.pin(); e.preventDefault(); return; }
      if (!d) return;
      var ext = self.current.spec.extent, u = self.project(self.current.z);
      self.moveTo([u[0] + d[0] * 0.02 * (ext[1] - ext[0]), u[1] + d[1] * 0.02 * (ext[3] - ext[2])]);
      e.preventDefault();
    });
  };

  // ---- decoding and drawing -------------------------------------------------------------------------
  /* Draw one data row on a canvas: an image (grey or RGB) scaled by whole pixels, or bars. */
  Explorer.prototype.drawRow = function (canvas, x, size) {
    var d = this.data, lo = d.vrange[0], hi = d.vrange[1], ctx = canvas.getContext("2d");
    function level(v) { return Math.max(0, Math.min(255, Math.round((v - lo) / (hi - lo) * 255))); }
    if (!d.image_shape) { this.drawBars(canvas, x, size); return; }
    var C = d.image_shape[0], Hh = d.image_shape[1], Ww = d.image_shape[2];
    var scale = Math.max(1, Math.floor(size / Math.max(Hh, Ww)));
    if (canvas.width !== Ww * scale || canvas.height !== Hh * scale) { canvas.width = Ww * scale; canvas.height = Hh * scale; }
    var small = this.scratch || (this.scratch = document.createElement("canvas"));
    small.width = Ww; small.height = Hh;
    var sctx = small.getContext("2d"), img = sctx.createImageData(Ww, Hh), plane = Hh * Ww;
    for (var p = 0; p < plane; p++) {
      var r = level(x[p]), gg = C === 3 ? level(x[plane + p]) : r, b = C === 3 ? level(x[2 * plane + p]) : r;
      img.data[4 * p] = r; img.data[4 * p + 1] = gg; img.data[4 * p + 2] = b; img.data[4 * p + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  };

  /* A table row as bars, one per feature, each scaled to its feature's range in the data (1st..99th
   * percentile: features in different units share no scale); hovering a bar names the feature and its
   * value in the data's units. */
  Explorer.prototype.drawBars = function (canvas, x, size) {
    var n = this.data.n_features, lo = this.featureLo, hi = this.featureHi, ctx = canvas.getContext("2d");
    var W = Math.max(size * 1.5, Math.min(8 * n, 480)), H = Math.round(size / 2), bw = W / n, top = H / 1.25;
    if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
    ctx.fillStyle = "#f4f7fb"; ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = "#c9d2dd"; ctx.beginPath(); ctx.moveTo(0, H - top); ctx.lineTo(W, H - top); ctx.stroke();
    for (var j = 0; j < n; j++) {
      var f = Math.max(0, Math.min(1.25, (x[j] - lo[j]) / (hi[j] - lo[j]))), h = Math.max(1, f * top);
      ctx.fillStyle = f > 1 ? "#c0392b" : "#4a6fa5";
      ctx.fillRect(j * bw, H - h, Math.max(1, bw - (bw > 3 ? 1 : 0)), h);
    }
    canvas.lsRow = Float64Array.from(x);
    if (!canvas.lsHover) {
      var self = this;
      canvas.lsHover = true;
      canvas.setAttribute("data-bars", "1");
      canvas.addEventListener("mousemove", function (e) {
        var r = canvas.getBoundingClientRect(), j = Math.floor((e.clientX - r.left) / r.width * n);
        self.describeFeature(canvas, Math.max(0, Math.min(n - 1, j)));
      });
    }
  };

  Explorer.prototype.describeFeature = function (canvas, j) {
    var names = this.data.feature_names, name = names && names[j] !== undefined ? names[j] : "x" + (j + 1);
    var text = name + " = " + fmt(canvas.lsRow[j]) + " (data: " + fmt(this.featureLo[j]) + " to " + fmt(this.featureHi[j]) + ")";
    canvas.title = text;
    this.readout.textContent = text;
    return text;
  };

  Explorer.prototype.refRow = function (row) {
    var nF = this.data.n_features;
    return this.ref.subarray(row * nF, (row + 1) * nF);
  };

  Explorer.prototype.describeNearest = function (nn) {
    var label = this.refLabels ? " (" + this.labelName(this.refLabels[nn.row]) + ")" : "";
    var scaled = this.distanceScale ? " (standardised)" : "";
    return "nearest training example #" + nn.index + label + ", distance" + scaled + " " + fmt(nn.distance);
  };

  Explorer.prototype.update = function (fromSlider) {
    var m = this.current, t0 = performance.now(), x = m.decode(m.z), ms = performance.now() - t0;
    this.drawRow(this.decoded, x, 200);
    var nn = this.nearest(x);
    this.lastNearest = nn;
    this.drawRow(this.nearestCanvas, this.refRow(nn.row), 200);
    this.nearestCaption.textContent = this.describeNearest(nn);
    this.nearestCaption.setAttribute("data-index", String(nn.index));
    this.nearestCaption.setAttribute("data-distance", String(nn.distance));
    for (var j = 0; j < m.k; j++) {
      var s = this.sliderInputs[j];
      if (j !== fromSlider) s.input.value = String(m.z[j]);
      s.value.textContent = fmt(m.z[j]);
    }
    this.codeLine.textContent = "z = (" + Array.prototype.map.call(m.z, fmt).join(", ") + ")";
    var conditioned = m.classes.length ? " · class " + m.classes[m.cls] : "";
    this.info.textContent = m.spec.kind + conditioned + " · " + m.spec.summary + " · weights " + m.spec.precision + " · decode " + ms.toFixed(2) + " ms";
    this.drawMap();
  };

  Explorer.prototype.pin = function () {
    var z = Float64Array.from(this.current.z);
    this.pins = this.pins.length >= 2 ? [z] : this.pins.concat([z]);
    if (this.pins.length === 2) this.renderStrip(); else this.strip.innerHTML = "";
    this.drawMap();
  };

  Explorer.prototype.renderStrip = function () {
    var m = this.current, a = this.pins[0], b = this.pins[1];
    this.strip.innerHTML = "";
    for (var i = 0; i < STRIP; i++) {
      var t = i / (STRIP - 1), z = new Float64Array(m.k);
      for (var j = 0; j < m.k; j++) z[j] = (1 - t) * a[j] + t * b[j];
      var x = m.decode(z), nn = this.nearest(x);
      var tile = el("figure", {"class": "ls-tile", "data-role": "strip-tile", "data-index": String(nn.index)}, this.strip);
      this.drawRow(el("canvas", {"data-role": "strip-decoded"}, tile), x, 64);
      this.drawRow(el("canvas", {"class": "ls-ref"}, tile), this.refRow(nn.row), 40);
      var cap = el("figcaption", {title: "t=" + t.toFixed(2) + ": " + this.describeNearest(nn)}, tile);
      cap.appendChild(document.createTextNode("#" + nn.index));
      el("br", {}, cap);
      cap.appendChild(document.createTextNode("d=" + fmt(nn.distance)));
    }
  };

  Explorer.prototype.drawCode = function () {
    var m = this.current, w = m.weights, u = this.rand(), c = 0, acc = w[0], k = m.k;
    while (c < w.length - 1 && u > acc) { c++; acc += w[c]; }  // the mixture component
    var eps = new Float64Array(k), z = new Float64Array(k);
    for (var i = 0; i < k; i++) eps[i] = gauss(this.rand);
    for (i = 0; i < k; i++) {
      var s = m.means[c * k + i];
      for (var j = 0; j <= i; j++) s += m.chol[(c * k + i) * k + j] * eps[j];
      z[i] = s;
    }
    return z;
  };

  Explorer.prototype.sample = function () {
    this.current.z.set(this.drawCode());
    this.update();
  };

  // ---- what tests and benchmarks call --------------------------------------------------------------
  Explorer.prototype.decodeCodes = function (modelIndex, codes, cls) {
    var m = this.models[modelIndex];
    return codes.map(function (z) { return Array.from(m.decode(z, cls)); });
  };
  Explorer.prototype.benchmark = function (modelIndex, n) {
    var m = this.models[modelIndex], rand = mulberry32(7), z = new Float64Array(m.k), sink = 0;
    var t0 = performance.now();
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < m.k; j++) z[j] = gauss(rand);
      sink += m.decode(z)[0];
    }
    return {ms_per_decode: (performance.now() - t0) / n, n: n, checksum: sink};
  };
  Explorer.prototype.state = function () {
    var m = this.current;
    return {model: m.spec.name, z: Array.from(m.z), cls: m.classes.length ? m.classes[m.cls] : null, pins: this.pins.map(function (p) { return Array.from(p); }),
            nearest: this.lastNearest,
            strip: Array.prototype.map.call(this.strip.querySelectorAll("[data-role=strip-tile]"),
                                            function (t) { return Number(t.getAttribute("data-index")); })};
  };

  function initAll() {
    window.latentExplorers = window.latentExplorers || [];
    Array.prototype.forEach.call(document.querySelectorAll(".ls-explorer[data-explorer]"), function (root) {
      if (root.getAttribute("data-ready")) return;
      root.setAttribute("data-ready", "1");
      try {
        window.latentExplorers.push(new Explorer(root));
      } catch (err) {
        el("p", {"class": "ls-error", text: "The explorer could not start: " + err.message}, root);
        console.error(err);
      }
    });
  }
  window.LatentExplorer = {initAll: initAll, Explorer: Explorer};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll); else initAll();
})();
