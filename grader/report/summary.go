package report

import (
	"fmt"
	"strings"
)

// Summary is summary.md: a heading with the score, a table with a row per
// case (case, phases, points, state, time) and its total, and under it the
// reason for each case that did not pass, folded. It is written for a
// GitHub job summary, which renders Markdown tables and <details>.
func Summary(r Run) string {
	var b strings.Builder
	title := "pbftlab grade"
	if r.Tree != "" {
		title += ": " + r.Tree
	}
	fmt.Fprintf(&b, "### %s\n\n%s\n\n", mdText(title), r.Headline())
	if r.Error != "" && !r.graded() {
		fmt.Fprintf(&b, "Grading could not run:\n\n%s\n", fence(r.Error))
	}
	b.WriteString("| Case | Phases | Points | State | Time |\n|---|---|--:|---|--:|\n")
	for _, c := range r.Cases {
		name := mdText(c.Name)
		if c.Hidden {
			name += " (TA only)"
		}
		fmt.Fprintf(&b, "| %s | %s | %d/%d | %s %s | %s |\n",
			name, mdText(strings.Join(c.Phases, ", ")), c.Points, c.Max, stateMark(c.State), mdText(c.State), seconds(c.Time))
	}
	t := r.Totals()
	if !r.graded() {
		t.Score, t.RobScore = 0, 0
	}
	fmt.Fprintf(&b, "| **Score** (the lab's cases) | | **%d/%d** | | %s |\n", t.Score, t.Max, seconds(r.Duration))
	if t.RobMax > 0 {
		fmt.Fprintf(&b, "| **Robustness** | | **%d/%d** | | |\n", t.RobScore, t.RobMax)
		fmt.Fprintf(&b, "| **Total** (results.json's score) | | **%d/%d** | | |\n", t.Score+t.RobScore, t.Max+t.RobMax)
	}
	for _, c := range r.Cases {
		if c.State == "passed" {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s: %s</summary>\n\n%s", htmlText(c.Name), htmlText(FirstProblem(c.reason())), fence(BoundLines(c.reason(), 60, MaxLineLen)))
		if c.Replay != "" {
			fmt.Fprintf(&b, "\nReplay: %s\n", code(c.Replay))
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

// stateMark is a state's symbol in the table.
func stateMark(state string) string {
	switch Outcome(state) {
	case OutcomePassed:
		return "✅"
	case OutcomeFailure:
		return "❌"
	case OutcomeSkipped:
		return "⏭️"
	}
	return "💥"
}

// mdText keeps a value from breaking a Markdown table cell.
func mdText(s string) string {
	s = strings.ReplaceAll(Printable(s), "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// summaryEscaper escapes the few characters that matter inside
// <summary>; built once, like escaper.
var summaryEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// htmlText escapes the few characters that matter inside <summary>, and
// every control character: Markdown ends a line at a lone carriage return,
// so a replica's "\r\r" would close the block and write Markdown of its
// own (a heading with a score, a table of passed cases).
func htmlText(s string) string { return summaryEscaper.Replace(Printable(s)) }

// code is s as a Markdown code span, delimited by more backticks than any
// run of them s holds.
func code(s string) string {
	s = Printable(s)
	tick := "`"
	for strings.Contains(s, tick) {
		tick += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return tick + " " + s + " " + tick
	}
	return tick + s + tick
}
