package report

import (
	"html/template"

	"pbftlab/lab"
)

// The step-through of a failing run in report.html: a slider, previous and
// next buttons and the arrow keys move through the deliveries; each
// position shows the message just delivered, what it led to, and every
// replica's view and log with the votes it counted. The steps travel as
// JSON inside the page, escaped by html/template for a script element, and
// the page's script writes every piece of text with textContent, so what a
// replica logged or reported is shown as text and never run as markup.
// "#step=12" in the address opens the first step-through at step 12, and
// "#case2_withdraw:step=12" that of one case, so a link (or a headless
// browser's screenshot) can point at a moment of the run.

// stepFuncs are the step-through's template functions.
var stepFuncs = template.FuncMap{
	// stepsShown reports whether a case of r has a step-through, so the
	// page carries its script only then.
	"stepsShown": func(r Run) bool {
		for _, c := range r.Cases {
			if hasSteps(c.Trace) {
				return true
			}
		}
		return false
	},
	"hasSteps":   hasSteps,
	"quorum":     lab.Quorum,
	"stepColors": func() map[string]string { return phaseColors },
}

// hasSteps reports whether t is a failing run with steps to show.
func hasSteps(t *Trace) bool {
	return t != nil && !t.Passed && t.Steps != nil && len(t.Steps.Steps) > 0
}

// stepTemplates define "step-style" (rules for the page's style sheet),
// "trace-steps" (the step-through of one trace, empty unless hasSteps) and
// "step-script" (the page's one script, given the Run).
const stepTemplates = `{{define "step-style"}}
.steps { border: 1px solid #e5e7eb; border-radius: 6px; background: #fff; padding: 8px 12px; margin: 6px 0 10px; }
.steps:focus { outline: 2px solid #93c5fd; }
.steps-bar { display: flex; align-items: center; gap: 8px; margin: 4px 0; }
.steps-bar input[type=range] { flex: 1; }
.steps-bar button { font: inherit; padding: 1px 10px; }
.steps-all { font-size: 12px; color: #4b5563; white-space: nowrap; }
.steps-pos { font: 12px ui-monospace, Menlo, Consolas, monospace; min-width: 15em; text-align: right; }
.steps-msg { font: 13px/1.5 ui-monospace, Menlo, Consolas, monospace; margin: 6px 0 2px; overflow-wrap: anywhere; }
.steps-msg .kind { color: #fff; border-radius: 3px; padding: 0 5px; }
.steps-msg .flag { color: #b91c1c; margin-left: 8px; }
.steps-script { color: #4b5563; font-size: 12px; margin: 2px 0; overflow-wrap: anywhere; }
.steps-then { font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; color: #374151; white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0 8px; padding-left: 12px; border-left: 2px solid #e5e7eb; }
.steps-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(400px, 1fr)); gap: 8px; }
.replica { border: 1px solid #e5e7eb; border-radius: 4px; padding: 6px 8px; font-size: 12px; min-width: 0; }
.replica.to { border-color: #2563eb; box-shadow: 0 0 0 1px #2563eb; }
.replica.changed h4::after { content: " · changed"; color: #a16207; font-weight: 400; }
.replica h4 { font-size: 13px; margin: 0 0 2px; }
.replica .tag { display: inline-block; font-size: 11px; border-radius: 8px; padding: 0 6px; margin-left: 4px; color: #fff; background: #6b7280; font-weight: 400; }
.replica .tag.to { background: #2563eb; }
.replica .tag.bad { background: #dc2626; }
.replica .line { color: #4b5563; margin: 0 0 2px; overflow-wrap: anywhere; }
.replica pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #fef2f2; }
.replica table { border-collapse: collapse; width: 100%; margin-top: 4px; }
.replica th, .replica td { border-top: 1px solid #f3f4f6; padding: 1px 4px; text-align: left; vertical-align: top; font: 11px/1.35 ui-monospace, Menlo, Consolas, monospace; }
.replica td.req { overflow-wrap: anywhere; }
.replica td.votes { white-space: pre; }
.replica td.phase { white-space: nowrap; }
.replica tr.changed { background: #fef9c3; }
.replica tr.current td:first-child { box-shadow: inset 3px 0 #2563eb; }
.phase-pre-prepared { color: #2563eb; }
.phase-prepared { color: #16a34a; }
.phase-committed { color: #9333ea; font-weight: 600; }
.phase-aborted { color: #dc2626; font-weight: 600; }
{{end}}

{{define "trace-steps"}}{{if hasSteps .}}{{with .Steps}}
<h3>Step through the run, seed {{$.Seed}}</h3>
<div class="steps" tabindex="0">
<p class="meta">After each delivery: the message, what it led to, and every replica's view and log as its Status reported them, with the votes it counted, by sender (with {{.Replicas}} replicas a quorum is 2f+1 = {{quorum .Replicas}}). Step with the buttons, the slider or the arrow keys; the address (#step=N) names the step shown.{{if lt (len .Steps) .Total}} The first {{len .Steps}} of {{.Total}} deliveries are shown.{{end}}</p>
<noscript><p class="meta">The step-through needs JavaScript.</p></noscript>
<div class="steps-bar"><button type="button" data-go="-1" title="previous step (←)">◀ prev</button><input type="range" min="1" max="{{len .Steps}}" value="1" aria-label="step"><button type="button" data-go="1" title="next step (→)">next ▶</button><label class="steps-all"><input type="checkbox"> whole logs</label><span class="steps-pos"></span></div>
<div class="steps-msg"></div>
<div class="steps-script"></div>
<div class="steps-then"></div>
<div class="steps-grid"></div>
<script type="application/json" class="steps-data">{{.}}</script>
</div>{{end}}{{end}}{{end}}

{{define "step-script"}}{{if stepsShown .}}
<script>
(function () {
  "use strict";
  var colors = {{stepColors}};
  var shownEntries = 8; // of a long log, the latest, unless whole logs are asked for
  var widgets = [];
  var active = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function add(parent, tag, cls, text) {
    var e = el(tag, cls, text);
    parent.appendChild(e);
    return e;
  }
  // votes renders the senders a replica counted: "3 yes: P0 P1 P2; 1 no: P3".
  function votes(yes, no, yesWord, noWord) {
    var parts = [];
    if (yes && yes.length) { parts.push(yes.length + " " + yesWord + ": " + yes.join(" ")); }
    if (no && no.length) { parts.push(no.length + " " + noWord + ": " + no.join(" ")); }
    return parts.length ? parts.join("\n") : "-";
  }

  function Steps(root) {
    var self = this;
    this.root = root;
    this.data = JSON.parse(root.querySelector("script.steps-data").textContent);
    var section = root.closest("section");
    this.name = section ? section.id : "";
    this.slider = root.querySelector("input[type=range]");
    this.pos = root.querySelector(".steps-pos");
    this.msg = root.querySelector(".steps-msg");
    this.script = root.querySelector(".steps-script");
    this.then = root.querySelector(".steps-then");
    this.grid = root.querySelector(".steps-grid");
    this.all = root.querySelector(".steps-all input");
    this.at = -1;
    this.all.addEventListener("change", function () { self.show(self.at, false); });
    this.slider.addEventListener("input", function () { self.show(Number(self.slider.value) - 1, true); });
    Array.prototype.forEach.call(root.querySelectorAll("button[data-go]"), function (b) {
      b.addEventListener("click", function () { self.show(self.at + Number(b.getAttribute("data-go")), true); });
    });
    root.addEventListener("focusin", function () { active = self; });
    root.addEventListener("pointerdown", function () { active = self; });
  }

  Steps.prototype.show = function (i, byHand) {
    var d = this.data, steps = d.steps;
    i = Math.max(0, Math.min(steps.length - 1, i));
    this.at = i;
    this.slider.value = String(i + 1);
    var s = steps[i], prev = i > 0 ? steps[i - 1] : null;
    this.pos.textContent = "step " + (i + 1) + " of " + steps.length + " · tick " + s.t;

    this.msg.textContent = "";
    add(this.msg, "span", "", s.from + " → " + s.to + "  ");
    var kind = add(this.msg, "span", "kind", s.msg.kind);
    kind.style.background = colors[s.msg.kind] || "#374151";
    var text = s.msg.text.indexOf(s.msg.kind) === 0 ? s.msg.text.slice(s.msg.kind.length) : " " + s.msg.text;
    add(this.msg, "span", "", text);
    if (s.lost) { add(this.msg, "span", "flag", "lost: " + s.to + " is down"); }
    if (s.dup) { add(this.msg, "span", "flag", "a duplicate"); }
    if (s.forged) { add(this.msg, "span", "flag", "a Byzantine vote"); }
    this.script.textContent = s.script >= 0 ? "under the script line: " + d.scripts[s.script] : "before the first script line";
    this.then.textContent = s.then && s.then.length ? s.then.join("\n") : "(it led to nothing: no message sent, nothing logged)";

    this.grid.textContent = "";
    for (var r = 0; r < s.states.length; r++) {
      this.grid.appendChild(this.card(r, s, prev));
    }
    if (byHand && window.history && history.replaceState) {
      history.replaceState(null, "", "#" + encodeURIComponent(this.name) + ":step=" + (i + 1));
    }
  };

  // card draws replica r after step s, marking what changed since prev.
  Steps.prototype.card = function (r, s, prev) {
    var d = this.data, name = "P" + r, st = d.states[s.states[r]];
    var before = prev ? d.states[prev.states[r]] : null;
    var card = el("div", "replica");
    if (s.to === name) { card.classList.add("to"); }
    if (prev && prev.states[r] !== s.states[r]) { card.classList.add("changed"); }
    var h = add(card, "h4", "", name);
    if (s.to === name) { add(h, "span", "tag to", "received it"); }
    if (st.crashed) { add(h, "span", "tag bad", "crashed"); }
    if (st.failure) { add(h, "span", "tag bad", "failed"); }
    if (st.vc) { add(h, "span", "tag", "view changing"); }
    if (st.failure) {
      add(card, "pre", "", st.failure);
    } else {
      add(card, "p", "line", "view " + st.view + " · primary " + st.primary + " · executed to n" + st.exec +
        " · stable n" + st.stable + " · window (" + st.low + ", " + st.high + "]");
    }
    if (st.bal) { add(card, "p", "line", "balances: " + st.bal); }
    if (st.failure) { return card; }
    if (!st.log.length) {
      add(card, "p", "line", "log: empty");
      return card;
    }
    var had = {};
    if (before) { before.log.forEach(function (e) { had[e] = true; }); }
    var table = add(card, "table", "");
    var head = add(table, "tr", "");
    ["n", "v", "phase", "request", "prepares", "commits", "exec"].forEach(function (t) { add(head, "th", "", t); });
    var omitted = st.omitted || 0, hidden = omitted, cut = this.all.checked ? 0 : st.log.length - shownEntries;
    var current = /^(PRE-PREPARE|PREPARE|COMMIT)$/.test(s.msg.kind) && s.to === name ? s.msg.seq : -1;
    var rows = [];
    st.log.forEach(function (ei, k) {
      var e = d.entries[ei], changed = before && !had[ei];
      if (k < cut && !changed && e.seq !== current) {
        hidden++;
        return;
      }
      rows.push({ e: e, changed: changed });
    });
    if (hidden) {
      var note = (hidden === 1 ? " earlier entry " : " earlier entries ") + (omitted === hidden ? "left out" : "not shown (see whole logs)");
      add(add(table, "tr", ""), "td", "", "... " + hidden + note).colSpan = 7;
    }
    rows.forEach(function (row) {
      var e = row.e;
      var tr = add(table, "tr", "");
      if (row.changed) { tr.classList.add("changed"); }
      if (e.seq === current) { tr.classList.add("current"); }
      add(tr, "td", "", e.seq);
      add(tr, "td", "", e.view);
      add(tr, "td", "phase phase-" + e.phase, e.phase);
      add(tr, "td", "req", e.req);
      add(tr, "td", "votes", votes(e.py, e.pn, "yes", "no"));
      add(tr, "td", "votes", votes(e.cy, e.cn, "commit", "abort"));
      add(tr, "td", "", e.done ? "yes" : "");
    });
    return card;
  };

  // fromAddress shows the step the address names: #step=N for the first
  // step-through, #case:step=N for a case's.
  function fromAddress() {
    var m = /^#(?:(.+):)?step=(\d+)$/.exec(location.hash);
    if (!m) { return; }
    var w = widgets[0];
    if (m[1]) {
      var name = decodeURIComponent(m[1]);
      w = widgets.filter(function (x) { return x.name === name; })[0];
    }
    if (!w) { return; }
    w.show(Number(m[2]) - 1, false);
    active = w;
    w.root.scrollIntoView();
  }

  // The arrow keys step the step-through last used, else the first one on
  // screen; elsewhere they scroll as usual. The slider steps itself, and
  // text fields keep their arrows.
  function onScreen(w) {
    var b = w.root.getBoundingClientRect();
    return b.bottom > 0 && b.top < window.innerHeight;
  }
  document.addEventListener("keydown", function (e) {
    var delta = { ArrowLeft: -1, ArrowRight: 1 }[e.key];
    var t = e.target;
    if (!delta || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey ||
        (t && ((t.tagName === "INPUT" && t.type !== "checkbox") || t.tagName === "TEXTAREA" || t.tagName === "SELECT"))) {
      return;
    }
    var w = active && onScreen(active) ? active : widgets.filter(onScreen)[0];
    if (!w) { return; }
    active = w;
    w.show(w.at + delta, true);
    e.preventDefault();
  });

  Array.prototype.forEach.call(document.querySelectorAll(".steps"), function (root) {
    var w = new Steps(root);
    widgets.push(w);
    w.show(0, false);
  });
  fromAddress();
  window.addEventListener("hashchange", fromAddress);
})();
</script>{{end}}{{end}}`
