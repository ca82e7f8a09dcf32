package flame

// svgStyle is the SVG's inline stylesheet.
const svgStyle = `
text { font-family: Verdana, Helvetica, sans-serif; font-size: 12px; fill: rgb(0,0,0); }
.bg { fill: rgb(248,248,248); }
#title { font-size: 17px; text-anchor: middle; }
#subtitle { text-anchor: middle; fill: rgb(90,90,90); }
#search, #matched { text-anchor: end; }
.btn { cursor: pointer; fill: rgb(40,40,160); }
.btn:hover { text-decoration: underline; }
.hide { display: none; }
g.f { cursor: pointer; }
g.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }
g.f text { pointer-events: none; }
g.f.parent { opacity: 0.55; }
`

// svgScript makes the SVG interactive: details on hover, zoom on click,
// search. It runs after the frames are parsed (it is the last element) and
// reads cfg, which SVG writes just before it. It must not contain "]]>".
//
// Every frame is a <g class="f" data-x data-v> holding a <title> ("name
// (value, pct)"), a <rect> and a <text>; data-x and data-v are the frame's
// offset and width in units of value, so zoom and search work on exact
// integers rather than rounded pixels.
const svgScript = `
(function () {
"use strict";
var doc = document;
var framesG = doc.getElementById("frames");
var details = doc.getElementById("details");
var matched = doc.getElementById("matched");
var unzoomBtn = doc.getElementById("unzoom");
var searchBtn = doc.getElementById("search");
var frames = [];
var byG = new Map();
var gs = framesG.getElementsByTagName("g");
for (var i = 0; i < gs.length; i++) {
	var g = gs[i];
	var rect = g.getElementsByTagName("rect")[0];
	var title = g.getElementsByTagName("title")[0].textContent;
	var cut = title.lastIndexOf(" (");
	var f = {
		g: g, rect: rect, text: g.getElementsByTagName("text")[0], title: title,
		name: cut >= 0 ? title.slice(0, cut) : title,
		x: +g.getAttribute("data-x"), v: +g.getAttribute("data-v"),
		depth: Math.round((+rect.getAttribute("y") - cfg.rootY) * cfg.dir / cfg.frameH),
		fill: rect.getAttribute("fill")
	};
	frames.push(f);
	byG.set(g, f);
}

function frameOf(el) {
	for (; el && el !== framesG; el = el.parentNode) {
		var f = byG.get(el);
		if (f) return f;
	}
	return null;
}

function place(f, x, w) {
	f.rect.setAttribute("x", x.toFixed(2));
	f.rect.setAttribute("width", w.toFixed(2));
	f.text.setAttribute("x", (x + cfg.pad).toFixed(2));
	var fit = Math.floor((w - 2 * cfg.pad) / cfg.charW);
	var s = "";
	if (fit >= 3) s = f.name.length <= fit ? f.name : f.name.slice(0, fit - 2) + "..";
	f.text.textContent = s;
}

function show(f, on) {
	if (on) f.g.classList.remove("hide"); else f.g.classList.add("hide");
}

function zoom(z) {
	if (z.depth === 0) { unzoom(); return; }
	var scale = cfg.width / z.v, end = z.x + z.v;
	frames.forEach(function (f) {
		f.g.classList.remove("parent");
		if (f.depth < z.depth && f.x <= z.x && f.x + f.v >= end) {
			show(f, true);
			f.g.classList.add("parent");
			place(f, cfg.xpad, cfg.width);
		} else if (f.depth >= z.depth && f.x >= z.x && f.x + f.v <= end) {
			show(f, true);
			place(f, cfg.xpad + (f.x - z.x) * scale, f.v * scale);
		} else {
			show(f, false);
		}
	});
	unzoomBtn.classList.remove("hide");
}

function unzoom() {
	var scale = cfg.total > 0 ? cfg.width / cfg.total : 0;
	frames.forEach(function (f) {
		f.g.classList.remove("parent");
		show(f, true);
		place(f, cfg.xpad + f.x * scale, f.v * scale);
	});
	unzoomBtn.classList.add("hide");
}

var searching = false;

function resetSearch() {
	frames.forEach(function (f) { f.rect.setAttribute("fill", f.fill); });
	matched.textContent = " ";
	searchBtn.textContent = "Search";
	searching = false;
}

function search(term) {
	resetSearch();
	if (!term) return;
	var re;
	try { re = new RegExp(term); } catch (e) { matched.textContent = "Bad regular expression: " + e.message; return; }
	var hits = [];
	frames.forEach(function (f) {
		if (f.depth > 0 && re.test(f.name)) {
			f.rect.setAttribute("fill", cfg.matchFill);
			hits.push(f);
		}
	});
	// Frames are nested or disjoint: count each outermost match once.
	hits.sort(function (a, b) { return a.x - b.x || b.v - a.v; });
	var sum = 0, end = -1;
	hits.forEach(function (f) {
		if (f.x >= end) { sum += f.v; end = f.x + f.v; }
	});
	var pct = cfg.total > 0 ? 100 * sum / cfg.total : 0;
	matched.textContent = "Matched: " + pct.toFixed(2) + "% (" + hits.length + " frames)";
	searchBtn.textContent = "Reset Search";
	searching = true;
}

function searchPrompt() {
	if (searching) { resetSearch(); return; }
	var term = prompt("Search for function (regular expression):", "");
	if (term) search(term);
}

framesG.addEventListener("mouseover", function (e) {
	var f = frameOf(e.target);
	if (f) details.textContent = f.title;
});
framesG.addEventListener("mouseout", function () { details.textContent = " "; });
framesG.addEventListener("click", function (e) {
	var f = frameOf(e.target);
	if (f) zoom(f);
});
unzoomBtn.addEventListener("click", unzoom);
searchBtn.addEventListener("click", searchPrompt);
doc.addEventListener("keydown", function (e) {
	if ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F")) {
		e.preventDefault();
		searchPrompt();
	} else if (e.key === "Escape") {
		resetSearch();
		unzoom();
	}
});
try {
	var s = new URL(doc.location.href).searchParams.get("s");
	if (s) search(s);
} catch (e) {}
})();
`
