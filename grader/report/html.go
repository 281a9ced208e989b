package report

import (
	"bytes"
	"html/template"
	"strings"
)

// HTML renders report.html: one self-contained page (styles and script
// inline, no fonts or images from elsewhere) with the score, a table of
// cases, and a section per case holding its outcome, what differed, the
// replay command, the message diagram, a step-through of a failing run
// and the transcript.
func HTML(r Run) ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, pageData{Run: r, Legend: Legend()}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type pageData struct {
	Run    Run
	Legend [][2]string
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"outcome":  Outcome,
	"headline": func(r Run) string { return r.Headline() },
	"totals":   func(r Run) Totals { return r.Totals() },
	"seconds":  seconds,
	"join":     strings.Join,
	"reason":   func(c Case) string { return BoundLines(c.reason(), 200, MaxLineLen) },
	"differs": func(c Case) string {
		if c.Trace != nil && (c.Trace.Error != "" || len(c.Trace.Failures) > 0) {
			lines := c.Trace.Failures
			if c.Trace.Error != "" {
				lines = append([]string{c.Trace.Error}, lines...)
			}
			return strings.Join(lines, "\n")
		}
		return BoundLines(c.reason(), 200, MaxLineLen)
	},
	// The diagram's text is escaped as it is drawn, so the markup is safe
	// to insert as it stands.
	"diagram": func(t *Trace) template.HTML { return template.HTML(Diagram(t)) },
}).Funcs(stepFuncs).Parse(pageTemplate + stepTemplates))

const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pbftlab grade{{with .Run.Tree}}: {{.}}{{end}} · {{headline .Run}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; margin: 0; background: #f9fafb; }
main { max-width: 1300px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; color: #374151; }
.score { font-size: 18px; font-weight: 600; margin: 4px 0; }
.meta { color: #4b5563; margin: 0 0 6px; }
table.cases { border-collapse: collapse; background: #fff; margin: 12px 0; }
table.cases th, table.cases td { border: 1px solid #e5e7eb; padding: 4px 10px; text-align: left; }
table.cases td.num { text-align: right; }
section.case { background: #fff; border: 1px solid #e5e7eb; border-left: 6px solid #9ca3af; border-radius: 6px; padding: 12px 16px; margin: 18px 0; }
section.passed { border-left-color: #16a34a; }
section.failure { border-left-color: #dc2626; }
section.error { border-left-color: #7c3aed; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; color: #fff; background: #6b7280; vertical-align: middle; }
.badge.passed { background: #16a34a; }
.badge.failure { background: #dc2626; }
.badge.error { background: #7c3aed; }
.badge.hidden { background: #374151; }
pre { background: #f3f4f6; padding: 8px 10px; overflow-x: auto; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; margin: 4px 0; }
pre.differ { background: #fef2f2; border: 1px solid #fecaca; white-space: pre-wrap; overflow-wrap: anywhere; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; background: #f3f4f6; padding: 1px 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12px; margin: 8px 0; }
.legend span.key { display: inline-block; width: 26px; border-top: 3px solid; vertical-align: middle; margin-right: 4px; }
.diagram-box { overflow-x: auto; border: 1px solid #e5e7eb; background: #fff; }
svg.diagram .halo { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.error-box { background: #fef2f2; border: 1px solid #fecaca; padding: 8px 12px; border-radius: 6px; }
{{template "step-style"}}
</style>
</head>
<body>
<main>
<h1>pbftlab grade{{with .Run.Tree}}: {{.}}{{end}}</h1>
<p class="score">{{headline .Run}}</p>
<p class="meta">{{if .Run.Seed}}seeds from {{.Run.Seed}}, {{.Run.Runs}} per case · {{end}}{{len .Run.Cases}} cases · {{seconds .Run.Duration}}</p>
{{with .Run.Error}}<div class="error-box"><h2>Grading could not run</h2><pre>{{.}}</pre></div>{{end}}
<table class="cases">
<tr><th>Case</th><th>Phases</th><th>Points</th><th>State</th><th>Time</th></tr>
{{range .Run.Cases}}<tr><td><a href="#{{.Name}}">{{.Name}}</a>{{if .Hidden}} (TA only){{end}}</td><td>{{join .Phases ", "}}</td><td class="num">{{.Points}}/{{.Max}}</td><td>{{.State}}</td><td class="num">{{seconds .Time}}</td></tr>
{{end}}{{with totals .Run}}<tr><th>Total</th><th></th><th class="num">{{.Score}}/{{.Max}}</th><th></th><th></th></tr>{{if .RobMax}}
<tr><th>Robustness</th><th></th><th class="num">{{.RobScore}}/{{.RobMax}}</th><th></th><th></th></tr>{{end}}{{end}}
</table>
<div class="legend">{{range .Legend}}<span><span class="key" style="border-color: {{index . 1}}"></span>{{index . 0}}</span>{{end}}
<span>dashed: a no or abort vote</span><span>bold: sent by a Byzantine replica</span><span>faint: a duplicate delivery</span><span>✕: crashed, or lost at a crashed replica</span></div>
{{range .Run.Cases}}{{$o := outcome .State}}
<section class="case {{$o}}" id="{{.Name}}">
<h2>{{if .Title}}{{.Title}}{{else}}{{.Name}}{{end}} <span class="badge {{$o}}">{{.State}}</span>{{if .Hidden}} <span class="badge hidden">TA only</span>{{end}}</h2>
<p class="meta">{{.Name}} · {{.Kind}} · phases: {{join .Phases ", "}} · {{.Points}}/{{.Max}} points · {{seconds .Time}}{{with .Trace}} · seed {{.Seed}}{{end}}</p>
{{if ne .State "passed"}}<h3>What differed</h3>
<pre class="differ">{{differs .}}</pre>{{end}}
{{with .Replay}}<p>Replay: <code>{{.}}</code></p>{{end}}
{{with .Trace}}<h3>Messages, seed {{.Seed}}{{if .Passed}} (passed){{end}}</h3>
{{with .Cut}}<p class="meta">{{.}}</p>{{end}}
<div class="diagram-box">{{diagram .}}</div>
{{template "trace-steps" .}}
<details{{if not .Passed}} open{{end}}><summary>Transcript, seed {{.Seed}}</summary>
<pre>{{.Transcript}}</pre>
</details>{{else}}<p class="meta">No run was recorded for this case{{if ne .State "passed"}}: {{reason .}}{{end}}</p>{{end}}
</section>
{{end}}
</main>
{{template "step-script" .Run}}
</body>
</html>
`
