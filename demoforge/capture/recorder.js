// demoforge in-page recorder: one plain script, no framework, no build step.
//
// Defines `window.__demoforge` with:
//   snapshot()        a simplified DOM snapshot (events.DomSnapshot as a plain object, plus
//                     `unreached`: the cross-origin frames it could not look into)
//   record(config)    start recording: capture-phase listeners that hand every event to
//                     the Python binding `__demoforgeEmit` (one JSON string per call)
//   flush()           send what is still held back (last pointer move, wheel, scroll, and
//                     the events of the current batch)
//   stats             {events, ms}: time spent inside the recorder's own listeners
//
// Loading this file does NOT start recording, so the agent can observe a live page
// with exactly the snapshot code the recorder uses.
//
// Privacy: an element matching a mask selector (or inside one) never has its value
// read; keys typed into it are sent as MASK_CHAR with no code. The selectors are baked
// in when Python loads this file (see snapshot.recorder_source).
(function () {
  "use strict";
  if (window.__demoforge) return;

  var MASK_CHAR = "*";
  var MOVE_MS = 20; // at most one pointer-move sample per 20 ms (trailing sample kept)
  var WHEEL_MS = 50; // wheel deltas summed over 50 ms
  var SCROLL_MS = 100; // scroll positions sampled every 100 ms (final position kept)
  var BATCH_MS = 50; // events other than boundaries reach Python at most 50 ms late
  var MAX_ELEMENTS = 5000; // snapshot cap: bounds the cost on huge pages
  var MAX_TEXT = 500;

  // Filled in by demoforge.capture.snapshot.recorder_source(): the one list of mask selectors.
  var maskSelector = __DEMOFORGE_MASK__.join(",");

  var INTERACTIVE_TAGS = {
    a: 1, button: 1, input: 1, select: 1, textarea: 1, option: 1, label: 1,
    summary: 1, details: 1, img: 1, canvas: 1, video: 1, audio: 1, iframe: 1,
  };
  var FIELD_TAGS = { input: 1, select: 1, textarea: 1 };
  var SVG_SHAPES = {
    circle: 1, rect: 1, ellipse: 1, polygon: 1, polyline: 1, path: 1, line: 1, text: 1,
  };
  var INTERACTIVE_ROLES = {
    button: 1, link: 1, checkbox: 1, radio: 1, menuitem: 1, menuitemcheckbox: 1,
    menuitemradio: 1, option: 1, tab: 1, switch: 1, combobox: 1, listbox: 1,
    textbox: 1, slider: 1, spinbutton: 1, searchbox: 1, treeitem: 1, gridcell: 1,
  };
  var SKIP_TAGS = { script: 1, style: 1, noscript: 1, template: 1, head: 1, meta: 1, link: 1, "demoforge-indicator": 1 };
  var INPUT_ROLES = {
    button: "button", submit: "button", reset: "button", image: "button",
    checkbox: "checkbox", radio: "radio", range: "slider", number: "spinbutton",
    search: "searchbox", email: "textbox", tel: "textbox", text: "textbox",
    url: "textbox", password: "textbox",
  };
  var TAG_ROLES = {
    button: "button", select: "combobox", textarea: "textbox", option: "option",
    img: "img", h1: "heading", h2: "heading", h3: "heading", h4: "heading",
    h5: "heading", h6: "heading", li: "listitem", ul: "list", ol: "list",
    table: "table", tr: "row", td: "cell", th: "columnheader", form: "form",
    nav: "navigation", main: "main", dialog: "dialog", summary: "button",
  };

  // --- element refs: one registry for this window and every same-origin frame ---

  function registryWindow() {
    // The topmost window we may touch, so that refs are unique across same-origin frames.
    var w = window;
    try {
      while (w.parent !== w && w.parent.document) w = w.parent;
    } catch (e) { /* cross-origin parent: stop here */ }
    return w;
  }

  function registry() {
    var w = registryWindow();
    if (!w.__demoforgeRefs) {
      // Below a cross-origin boundary, refs start at a random multiple of 2^32, so that
      // they do not collide with the top page's when Python merges the two.
      var first = w.parent === w ? 1 : Math.floor(Math.random() * 1048576 + 1) * 4294967296;
      Object.defineProperty(w, "__demoforgeRefs", {
        value: { map: new WeakMap(), next: first }, enumerable: false,
      });
    }
    return w.__demoforgeRefs;
  }

  function refOf(el) {
    var reg = registry();
    var r = reg.map.get(el);
    if (r === undefined) {
      r = reg.next++;
      reg.map.set(el, r);
    }
    return r;
  }

  // --- frames: path and offset of this document inside the top-level viewport ---

  function frameIndex(frameEl) {
    var list = frameEl.ownerDocument.querySelectorAll("iframe,frame");
    for (var i = 0; i < list.length; i++) if (list[i] === frameEl) return i;
    return -1;
  }

  function frameContentOffset(frameEl) {
    var r = frameEl.getBoundingClientRect();
    var cs = frameEl.ownerDocument.defaultView.getComputedStyle(frameEl);
    return {
      x: r.left + frameEl.clientLeft + (parseFloat(cs.paddingLeft) || 0),
      y: r.top + frameEl.clientTop + (parseFloat(cs.paddingTop) || 0),
    };
  }

  // {path, x, y, known, up}: path like "0/2" (index among the parent's iframes, null at
  // top) and the offset of this document in the top-level viewport. Behind a cross-origin
  // boundary a frame sees only up to the boundary: then `known` is false, path and offset
  // are relative to the frame `up` levels above, and Python adds that frame's place.
  var TOP_FRAME = { path: null, x: 0, y: 0, known: true, up: 0 };
  var isTop = window.parent === window;

  function frameInfo(win) {
    if (win === window && isTop) return TOP_FRAME;
    var parts = [], x = 0, y = 0, w = win, known = true;
    while (w.parent !== w) {
      var fe = null;
      try { fe = w.frameElement; } catch (e) { fe = null; }
      if (!fe) {
        known = false;
        break;
      }
      parts.unshift(String(frameIndex(fe)));
      var off = frameContentOffset(fe);
      x += off.x;
      y += off.y;
      w = w.parent;
    }
    return { path: parts.length ? parts.join("/") : null, x: x, y: y, known: known, up: parts.length };
  }

  // --- describing elements ---

  function collapse(s) {
    s = s.replace(/\s+/g, " ").trim();
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s;
  }

  var NON_SPACE = /\S/;

  // The computed background colour, or null when it shows nothing (transparent).
  function colorOf(el) {
    var c = el.ownerDocument.defaultView.getComputedStyle(el).backgroundColor;
    if (!c || c === "transparent" || /^rgba\(.*,\s*0(\.0+)?\)$/.test(c)) return null;
    return c;
  }

  function ownText(el) {
    var out = "";
    for (var n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 3) out += n.data;
    return out && NON_SPACE.test(out) ? collapse(out) : null;
  }

  function isMasked(el) {
    return !!(el.closest && el.closest(maskSelector));
  }

  function roleOf(el, tag) {
    var explicit = el.getAttribute("role");
    if (explicit) return explicit.split(" ")[0];
    if (tag === "input") return INPUT_ROLES[(el.type || "text").toLowerCase()] || "textbox";
    if (tag === "a") return el.hasAttribute("href") ? "link" : null;
    if (tag === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    return TAG_ROLES[tag] || null;
  }

  function textById(doc, ids) {
    var out = [];
    ids.split(/\s+/).forEach(function (id) {
      var t = id && doc.getElementById(id);
      if (t && !isMasked(t)) out.push(t.textContent);
    });
    return collapse(out.join(" ")) || null;
  }

  // The accessible name, by the common rules: aria-label(ledby), <label>, alt, title,
  // placeholder, and for buttons and links their text. Never a masked element's text.
  function nameOf(el, tag, masked) {
    var v = el.getAttribute("aria-label");
    if (v) return collapse(v);
    v = el.getAttribute("aria-labelledby");
    if (v && (v = textById(el.ownerDocument, v))) return v;
    if (el.labels && el.labels.length) {
      v = collapse(Array.prototype.map.call(el.labels, function (l) { return l.textContent; }).join(" "));
      if (v) return v;
    }
    v = el.getAttribute("alt") || el.getAttribute("title") || el.getAttribute("placeholder");
    if (v) return collapse(v);
    if (masked) return null;
    if (tag === "input" && /^(button|submit|reset)$/i.test(el.type)) return collapse(el.value) || null;
    if (tag === "button" || tag === "a" || tag === "option" || tag === "summary" ||
        INTERACTIVE_ROLES[el.getAttribute("role")]) {
      return collapse(el.textContent || "") || null;
    }
    return null;
  }

  // The field value, or null. A masked field's value is never read.
  function valueOf(el, tag, masked) {
    if (masked) return null;
    if (tag === "input" || tag === "textarea" || tag === "select") return el.value;
    if (el.hasAttribute("contenteditable") && el.isContentEditable) return collapse(el.innerText || "");
    return null;
  }

  function checkedOf(el, tag) {
    if (tag === "input" && /^(checkbox|radio)$/i.test(el.type)) return !!el.checked;
    if (tag === "option") return !!el.selected;
    var a = el.getAttribute("aria-checked") || el.getAttribute("aria-selected");
    return a === null ? null : a === "true";
  }

  function isInteractive(el, tag) {
    // An <a> without href is no link; a role, a tabindex or a handler still make it a control
    // (a spinner's arrow buttons).
    if (INTERACTIVE_TAGS[tag] && !(tag === "a" && !el.hasAttribute("href"))) return true;
    if (el.namespaceURI === "http://www.w3.org/2000/svg") return !!SVG_SHAPES[tag];
    var role = el.getAttribute("role");
    if (role && INTERACTIVE_ROLES[role]) return true;
    return el.hasAttribute("tabindex") || el.hasAttribute("onclick") ||
      el.hasAttribute("contenteditable") || typeof el.onclick === "function";
  }

  // A subtree whose box lies more than a viewport away from the visible area is skipped
  // whole: the long tail of a big page costs nothing. (Only a descendant positioned that
  // far outside its ancestor's box would be missed.)
  function farAway(b, vp) {
    return b.y + b.height < -vp.height || b.y > 2 * vp.height ||
      b.x + b.width < -vp.width || b.x > 2 * vp.width;
  }

  // Visible: has a size, lies at least partly inside the top-level viewport `vp` (what the
  // person can see; an off-screen row of a long table is skipped, which keeps snapshots
  // cheap on big pages), and is not hidden by CSS.
  function isVisible(el, b, vp) {
    if (b.width <= 0 && b.height <= 0) return false;
    if (b.x >= vp.width || b.y >= vp.height || b.x + b.width <= 0 || b.y + b.height <= 0) return false;
    if (el.checkVisibility) return el.checkVisibility({ visibilityProperty: true, checkVisibilityCSS: true });
    return true;
  }

  // A drop-down <select>'s options have no box of their own: the browser draws its list
  // outside the page. While the select has focus (a click opened it), each option is given
  // the row it takes in that list, below the select, as a person sees it; the MiniWoB++
  // recordings' DOM dumps placed options there too.
  function dropDownRow(el, activeEl, off) {
    var select = el.closest && el.closest("select");
    if (!select || select !== activeEl || roleOf(select, "select") !== "combobox") return null;
    var rect = select.getBoundingClientRect();
    var row = Math.round(parseFloat(getComputedStyle(select).fontSize) * 1.25 * 100) / 100;
    return box({ left: rect.left, top: rect.bottom + el.index * row, width: rect.width, height: row }, off);
  }

  function box(rect, off) {
    return {
      x: Math.round((rect.left + off.x) * 100) / 100,
      y: Math.round((rect.top + off.y) * 100) / 100,
      width: Math.round(rect.width * 100) / 100,
      height: Math.round(rect.height * 100) / 100,
    };
  }

  // Selectors: the nearest id, then a path of `tag` or `tag:nth-of-type(n)` steps (n only
  // when the parent has several children of that tag). selectorOf builds it bottom-up for
  // one element; the snapshot builds the same string top-down, in one pass over the tree.
  var ID_RE = /^[A-Za-z][\w-]*$/;

  function selectorStep(tag, n, same) {
    return same > 1 ? tag + ":nth-of-type(" + n + ")" : tag;
  }

  function selectorOf(el) {
    var parts = [];
    while (el && el.nodeType === 1) {
      if (el.id && ID_RE.test(el.id)) {
        parts.unshift("#" + el.id);
        break;
      }
      var n = 1, same = 0;
      for (var s = el.parentNode ? el.parentNode.firstElementChild : null; s; s = s.nextElementSibling) {
        if (s.localName === el.localName) {
          same++;
          if (s === el) n = same;
        }
      }
      parts.unshift(selectorStep(el.localName, n, same));
      if (el.localName === "html") break;
      el = el.parentElement;
    }
    return parts.join(" > ");
  }

  // Visit `first` and its siblings, each with what its selector is made of: selectorOf's
  // string is only built for the elements that need it (an element kept in the snapshot,
  // or one whose children are visited), not for the thousands a big page skips.
  function visitChildren(first, parentSel, visitOne) {
    var counts = {}, seen = {}, c, tag;
    for (c = first; c; c = c.nextElementSibling) counts[c.localName] = (counts[c.localName] || 0) + 1;
    for (c = first; c; c = c.nextElementSibling) {
      tag = c.localName;
      seen[tag] = (seen[tag] || 0) + 1;
      visitOne(c, parentSel, seen[tag], counts[tag]);
    }
  }

  // `parentSel` is null for a document's root element, which is always plain "html".
  function childSelector(el, parentSel, n, same) {
    if (parentSel === null) return "html";
    if (el.id && ID_RE.test(el.id)) return "#" + el.id;
    return (parentSel ? parentSel + " > " : "") + selectorStep(el.localName, n, same);
  }

  // --- long runs of siblings (a table of thousands of rows) ---
  //
  // On a big page most of the snapshot's time goes into asking the layout where each of
  // thousands of off-screen rows lies, only to skip it. For a parent of at least RUN_MIN
  // children, the snapshot remembers which of them were far away, and the next one skips
  // them again without asking, as long as they cannot have moved: nothing in the parent's
  // subtree changed (a MutationObserver watches it), the parent's box, its scroll position
  // and the viewport are the same, and no animation runs in the document. Not covered: a
  // style rule edited through the CSSOM that moves rows but not their parent.
  var RUN_MIN = 50;
  var FAR = 1; // what visit() returns for an element it skipped for lying far away
  var runs = new WeakMap();

  // The set of `parent`'s children known to be far away; the caller adds to it.
  function farChildren(parent, b, viewport) {
    var key = [b.x, b.y, b.width, b.height, parent.scrollLeft, parent.scrollTop,
      viewport.width, viewport.height].join();
    var run = runs.get(parent);
    if (!run) {
      run = { key: null, far: new Set(), changed: true };
      run.observer = new MutationObserver(function () { run.changed = true; });
      run.observer.observe(parent, { subtree: true, childList: true, attributes: true, characterData: true });
      runs.set(parent, run);
    }
    if (run.observer.takeRecords().length) run.changed = true;
    if (run.changed || run.key !== key || parent.ownerDocument.getAnimations().length) {
      run.far = new Set();
    }
    run.changed = false;
    run.key = key;
    return run.far;
  }

  // --- snapshot ---

  function snapshot() {
    var top = frameInfo(window);
    var topWin = registryWindow();
    var viewport = { x: 0, y: 0, width: topWin.innerWidth, height: topWin.innerHeight };
    var elements = [];
    var unreached = [];
    var focusedRef = null;
    var state = { count: 0 };

    // `el`'s selector is childSelector(el, parentSel, n, same), built only when needed.
    // Returns FAR when `el` was skipped for lying far away.
    function visit(el, parentSel, n, same, parentRef, off, framePath, activeEl) {
      if (state.count >= MAX_ELEMENTS) return;
      var tag = el.localName;
      if (SKIP_TAGS[tag]) return;
      var isFrame = tag === "iframe" || tag === "frame";
      var b = null;
      var row = null;
      if (tag !== "html" && tag !== "body") {
        row = tag === "option" ? dropDownRow(el, activeEl, off) : null;
        b = row || box(el.getBoundingClientRect(), off);
        if (farAway(b, viewport)) return FAR;
      }
      var ref = parentRef;
      var sel = null;
      var text = ownText(el);
      // A leaf with a box is kept even without text: a colour swatch, an icon, an empty
      // board cell is something a person sees and may click.
      var leaf = b && b.width > 0 && b.height > 0 && !el.firstElementChild && !el.shadowRoot && !isFrame;
      if (b && (text || leaf || isInteractive(el, tag))) {
        if (isVisible(row ? activeEl : el, b, viewport)) {  // a row is seen when its select is
          var masked = isMasked(el);
          ref = refOf(el);
          var focused = el === activeEl;
          if (focused) focusedRef = ref;
          var item = { ref: ref, tag: tag, box: b, focused: focused };
          if (parentRef !== null) item.parent = parentRef;
          if (el.id) item.id = el.id;
          var cls = typeof el.className === "string" ? collapse(el.className) : "";
          if (cls) item.classes = cls;
          var role = roleOf(el, tag);
          if (role) item.role = role;
          var name = nameOf(el, tag, masked);
          if (name) item.name = name;
          if (tag === "input") item.input_type = (el.type || "text").toLowerCase();
          if (text && !masked) item.text = text;
          var value = valueOf(el, tag, masked);
          if (value !== null) item.value = value;
          var checked = checkedOf(el, tag);
          if (checked !== null) item.checked = checked;
          if (masked) {
            item.masked = true;
            // Whether the field holds anything, as the dots on screen show; never what.
            if (tag === "input" || tag === "textarea") item.filled = el.value !== "";
          }
          item.selector = sel = childSelector(el, parentSel, n, same);
          if (framePath) item.frame = framePath;
          // A swatch or a shade has no words: its colour is what a person sees of it.
          // (A form field's background says nothing; its value does.)
          if (leaf && !text && !FIELD_TAGS[tag]) {
            var color = colorOf(el);
            if (color) item.color = color;
          }
          elements.push(item);
          state.count++;
        }
      }
      if (isFrame) {
        var doc = null;
        try { doc = el.contentDocument; } catch (e) { doc = null; }
        var path = (framePath ? framePath + "/" : "") + frameIndex(el);
        if (doc && doc.documentElement) {
          var inner = frameContentOffset(el);
          visit(doc.documentElement, null, 1, 1, ref, { x: off.x + inner.x, y: off.y + inner.y },
                path, deepActive(doc));
        } else {
          unreached.push({ frame: path, parent: ref });  // cross-origin: Python fills it in
        }
        return;
      }
      function child(c, childParentSel, childN, childSame) {
        return visit(c, childParentSel, childN, childSame, ref, off, framePath, activeEl);
      }
      if (el.shadowRoot) {
        visitChildren(el.shadowRoot.firstElementChild, "", child);
      } else if (el.childElementCount >= RUN_MIN) {
        var far = farChildren(el, b || box(el.getBoundingClientRect(), off), viewport);
        visitChildren(el.firstElementChild, sel || childSelector(el, parentSel, n, same),
          function (c, childParentSel, childN, childSame) {
            if (!far.has(c) && child(c, childParentSel, childN, childSame) === FAR) far.add(c);
          });
        return;
      }
      if (el.firstElementChild) {
        visitChildren(el.firstElementChild, sel || childSelector(el, parentSel, n, same), child);
      }
    }

    visit(document.documentElement, null, 1, 1, null, { x: top.x, y: top.y }, top.path, deepActive(document));
    return {
      schema_version: 1,
      url: location.href,
      title: document.title || null,
      viewport: viewport,
      scroll_x: window.scrollX,
      scroll_y: window.scrollY,
      focused: focusedRef,
      elements: elements,
      unreached: unreached,
    };
  }

  function deepActive(doc) {
    var a = doc.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  // The snapshot of what the person sees: the top document's when this frame may reach it.
  function pageSnapshot() {
    var w = registryWindow();
    try {
      if (w !== window && w.__demoforge) return w.__demoforge.snapshot();
    } catch (e) { /* fall back to this frame */ }
    return snapshot();
  }

  // --- recording ---

  var stats = { events: 0, ms: 0 };
  var config = null;

  var HEX = [];
  for (var h = 0; h < 256; h++) HEX.push((h < 16 ? "0" : "") + h.toString(16));
  var idBytes = new Uint8Array(16);

  // A UUIDv7 (RFC 9562): 48-bit ms timestamp, version 7, variant 10, random rest.
  function uuid7() {
    var b = idBytes;
    crypto.getRandomValues(b);
    var ts = Date.now();
    for (var i = 5; i >= 0; i--) {
      b[i] = ts % 256;
      ts = Math.floor(ts / 256);
    }
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    return HEX[b[0]] + HEX[b[1]] + HEX[b[2]] + HEX[b[3]] + "-" + HEX[b[4]] + HEX[b[5]] + "-" +
      HEX[b[6]] + HEX[b[7]] + "-" + HEX[b[8]] + HEX[b[9]] + "-" + HEX[b[10]] + HEX[b[11]] +
      HEX[b[12]] + HEX[b[13]] + HEX[b[14]] + HEX[b[15]];
  }

  function tsOf(e) {
    return Math.round(performance.timeOrigin + (e && e.timeStamp ? e.timeStamp : performance.now()));
  }

  function targetOf(el, full) {
    if (!el || el.nodeType !== 1) return null;
    var tag = el.localName;
    var masked = isMasked(el);
    var t = { tag: tag, ref: refOf(el) };
    if (el.id) t.id = el.id;
    if (masked) t.masked = true;
    if (tag === "input") t.input_type = (el.type || "text").toLowerCase();
    if (!full) return t;
    var role = roleOf(el, tag);
    if (role) t.role = role;
    var name = nameOf(el, tag, masked);
    if (name) t.name = name;
    t.selector = selectorOf(el);
    var fi = frameInfo(window);
    t.box = box(el.getBoundingClientRect(), fi);
    return t;
  }

  function modifiersOf(e) {
    return { alt: !!e.altKey, ctrl: !!e.ctrlKey, meta: !!e.metaKey, shift: !!e.shiftKey };
  }

  function base(type, e) {
    var fi = frameInfo(window);
    var ev = { type: type, id: uuid7(), session_id: config.sessionId, ts: tsOf(e) };
    if (fi.path) ev.frame = fi.path;
    return ev;
  }

  // Hand events to Python. Each call of the binding costs far more than the event it
  // carries (Playwright wraps it, then answers it with a script run in the page), so
  // events are held back for at most BATCH_MS and sent together. A boundary goes at once,
  // after what was held back: it asks for a DOM snapshot (taken here, now, before the
  // page reacts) and a screenshot (taken by Python on receipt).
  var held = [];
  var heldTimer = null;

  function emit(events, boundary) {
    // Frames of one origin share a registry: the frame holding events sends them before
    // another frame sends anything, so that Python receives them in the order they happened.
    var reg = registry();
    if (reg.holder && reg.holder !== sendHeld) {
      try { reg.holder(); } catch (err) { reg.holder = null; /* that frame is gone */ }
    }
    held.push.apply(held, events);
    if (boundary) {
      sendHeld(boundary);
    } else if (!heldTimer) {
      reg.holder = sendHeld;
      heldTimer = setTimeout(timedTask(sendHeld), BATCH_MS);
    }
  }

  function sendHeld(boundary) {
    if (heldTimer) clearTimeout(heldTimer);
    heldTimer = null;
    var reg = registry();
    if (reg.holder === sendHeld) reg.holder = null;
    if (!held.length) return;
    var payload = { events: held };
    held = [];
    var fi = frameInfo(window);
    if (!fi.known) payload.cross_origin_up = fi.up;
    if (boundary) {
      payload.boundary = boundary;
      payload.snapshot = pageSnapshot();
    }
    try {
      window.__demoforgeEmit(JSON.stringify(payload));
    } catch (err) { /* binding gone: page is closing */ }
  }

  function eventTarget(e) {
    var p = e.composedPath ? e.composedPath() : null;
    var t = p && p.length ? p[0] : e.target;
    return t && t.nodeType === 1 ? t : (t && t.parentElement) || null;
  }

  function pointerEvent(type, e, full) {
    var fi = frameInfo(window);
    var ev = base(type, e);
    ev.x = e.clientX + fi.x;
    ev.y = e.clientY + fi.y;
    ev.button = e.button < 0 ? 0 : e.button;
    ev.buttons = e.buttons;
    ev.modifiers = modifiersOf(e);
    ev.target = targetOf(eventTarget(e), full);
    return ev;
  }

  // Trailing-edge sampler: at most one emission per `ms`, and the last value is never lost.
  function sampler(ms, flushFn) {
    var last = 0, pending = null, timer = null;
    function flush() {
      timer = null;
      if (pending) {
        var p = pending;
        pending = null;
        last = performance.now();
        flushFn(p);
      }
    }
    return {
      push: function (value, merge) {
        pending = merge && pending ? merge(pending, value) : value;
        var now = performance.now();
        if (now - last >= ms) {
          if (timer) clearTimeout(timer);
          flush();
        } else if (!timer) {
          timer = setTimeout(timedTask(flush), ms - (now - last));
        }
      },
      flush: function () {
        if (timer) clearTimeout(timer);
        flush();
      },
    };
  }

  var moves = sampler(MOVE_MS, function (ev) { emit([ev]); });
  var wheels = sampler(WHEEL_MS, function (ev) { emit([ev]); });
  var scrolls = sampler(SCROLL_MS, function (byTarget) {
    var evs = [];
    byTarget.forEach(function (ev) { evs.push(ev); });
    emit(evs);
  });
  var typingIn = null; // the element of the current typing run, if any

  function flushSamplers() {
    moves.flush();
    wheels.flush();
    scrolls.flush();
  }

  // Send everything still held back: the samplers' last values, then the batch.
  function flushAll() {
    flushSamplers();
    sendHeld(null);
  }

  // Time spent in the recorder's timers counts as its own too.
  function timedTask(fn) {
    return function () {
      var t0 = performance.now();
      try {
        fn();
      } finally {
        stats.ms += performance.now() - t0;
      }
    };
  }

  function timed(fn) {
    return function (e) {
      if (!config) return;
      var t0 = performance.now();
      try {
        fn(e);
      } finally {
        stats.events++;
        stats.ms += performance.now() - t0;
      }
    };
  }

  var handlers = {
    pointermove: function (e) {
      moves.push(pointerEvent("pointer_move", e, false));
    },
    pointerdown: function (e) {
      flushSamplers();
      typingIn = null;
      var ev = pointerEvent("pointer_down", e, true);
      emit([ev], { reason: "pointer_down", action_id: ev.id });
    },
    pointerup: function (e) {
      moves.flush();
      emit([pointerEvent("pointer_up", e, true)]);
    },
    click: function (e) {
      emit([pointerEvent("click", e, true)]);
    },
    dblclick: function (e) {
      emit([pointerEvent("dblclick", e, true)]);
    },
    wheel: function (e) {
      var ev = pointerEvent("wheel", e, false);
      ev.dx = e.deltaX;
      ev.dy = e.deltaY;
      wheels.push(ev, function (a, b) {
        b.dx += a.dx;
        b.dy += a.dy;
        return b;
      });
    },
    keydown: function (e) {
      var el = eventTarget(e);
      var ev = keyEvent("key_down", e, el);
      if (el !== typingIn) {
        flushSamplers();
        typingIn = el;
        emit([ev], { reason: "key_down", action_id: ev.id });
      } else {
        emit([ev]);
      }
    },
    keyup: function (e) {
      emit([keyEvent("key_up", e, eventTarget(e))]);
    },
    input: function (e) {
      emit([valueEvent("input", eventTarget(e))]);
    },
    change: function (e) {
      flushSamplers();
      var ev = valueEvent("change", eventTarget(e));
      typingIn = null;
      emit([ev], { reason: "change", action_id: ev.id });
    },
    focusin: function (e) {
      var el = eventTarget(e);
      if (el !== typingIn) typingIn = null;
      var ev = base("focus", e);
      ev.target = targetOf(el, true);
      emit([ev]);
    },
    scroll: function (e) {
      var t = e.target;
      var isDoc = t === document || t === document.documentElement || t === window;
      var ev = base("scroll", e);
      ev.scroll_x = isDoc ? window.scrollX : t.scrollLeft;
      ev.scroll_y = isDoc ? window.scrollY : t.scrollTop;
      if (!isDoc) ev.target = targetOf(t, true);
      var key = isDoc ? document : t;
      scrolls.push(new Map([[key, ev]]), function (a, b) {
        b.forEach(function (v, k) { a.set(k, v); });
        return a;
      });
    },
  };

  function keyEvent(type, e, el) {
    var masked = !!el && isMasked(el);
    var ev = base(type, e);
    // In a masked field printable keys become MASK_CHAR; named keys (Tab, Enter) stay.
    ev.key = masked && (e.key.length === 1 || /^(Dead|Unidentified|Process)$/.test(e.key)) ? MASK_CHAR : e.key;
    if (!masked) ev.code = e.code;
    ev.modifiers = modifiersOf(e);
    if (masked) ev.masked = true;
    ev.target = targetOf(el, true);
    return ev;
  }

  function valueEvent(type, el) {
    var ev = base(type, null);
    if (!el) return ev;
    var tag = el.localName;
    var masked = isMasked(el);
    var value = valueOf(el, tag, masked);
    if (value !== null) ev.value = value;
    var checked = checkedOf(el, tag);
    if (checked !== null) ev.checked = checked;
    if (masked) ev.masked = true;
    ev.target = targetOf(el, true);
    return ev;
  }

  var lastUrl = null;

  function navigated() {
    // The empty document every new page and frame starts with is not a navigation.
    if (!config || location.href === lastUrl || location.href === "about:blank") return;
    lastUrl = location.href;
    var ev = base("navigation", null);
    ev.url = location.href;
    if (document.title) ev.title = document.title;
    emit([ev], { reason: "navigation", action_id: ev.id });
  }

  function wrapHistory(name) {
    var orig = history[name];
    history[name] = function () {
      var r = orig.apply(this, arguments);
      setTimeout(navigated, 0);
      return r;
    };
  }

  // The person's pointer and keys. A page's scripts dispatch the same events (a widget's
  // element.click() on a hidden input, at 0, 0): those are the page's doing, not an action
  // the person took, and isTrusted tells them apart. Values and scrolls a script makes
  // are still recorded: they are what the person then sees.
  var PERSON_INPUT = ["pointermove", "pointerdown", "pointerup", "click", "dblclick", "wheel", "keydown", "keyup"];

  function fromPerson(fn) {
    return function (e) {
      if (e.isTrusted) fn(e);
    };
  }

  function record(cfg) {
    if (config) return;
    config = { sessionId: cfg.session_id };
    Object.keys(handlers).forEach(function (type) {
      var handler = PERSON_INPUT.indexOf(type) >= 0 ? fromPerson(handlers[type]) : handlers[type];
      window.addEventListener(type, timed(handler), { capture: true, passive: true });
    });
    // Held events leave when a navigation starts, while the document is whole: what is
    // sent from pagehide can reach Python after the next document's first events.
    window.addEventListener("beforeunload", timed(flushAll), { capture: true });
    window.addEventListener("pagehide", timed(flushAll), { capture: true });
    window.addEventListener("popstate", timed(navigated), { capture: true });
    window.addEventListener("hashchange", timed(navigated), { capture: true });
    wrapHistory("pushState");
    wrapHistory("replaceState");
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", timed(navigated), { capture: true });
    } else {
      navigated();
    }
    if (isTop) showIndicator();
  }

  // Privacy: a visible sign on every recorded page that recording is on. It lives in a
  // closed shadow root, lets every click through, and is left out of snapshots.
  function showIndicator() {
    if (!document.documentElement) return setTimeout(showIndicator, 10);
    var host = document.createElement("demoforge-indicator");
    host.setAttribute("aria-hidden", "true");
    host.style.cssText = "position:fixed;right:8px;bottom:8px;z-index:2147483647;pointer-events:none";
    var root = host.attachShadow({ mode: "closed" });
    var badge = document.createElement("span");
    badge.textContent = "\u25CF Recording";
    badge.style.cssText = "font:12px sans-serif;color:#fff;background:#c62828;padding:3px 8px;" +
      "border-radius:10px;opacity:0.9";
    root.appendChild(badge);
    document.documentElement.appendChild(host);
  }

  Object.defineProperty(window, "__demoforge", {
    value: Object.freeze({
      version: 1,
      snapshot: snapshot,
      record: record,
      flush: function () { if (config) flushAll(); },
      stats: stats,
    }),
    enumerable: false,
  });
})();
