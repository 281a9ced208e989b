package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxDiagramRows bounds a diagram's height: past it the drawing stops and
// says how much it left out. The transcript still has everything.
const MaxDiagramRows = 450

// Diagram geometry, in pixels.
const (
	laneGap      = 190 // between lanes
	laneLeft     = 70  // x of the first lane
	headerH      = 44  // lane names
	rowH         = 15  // a message row
	stepRowH     = 24  // a script line
	bandLineH    = 12  // each further line of a step's text
	maxBandLines = 8
	labelFrac    = 0.7 // where along an arrow its label sits
	charW        = 6.1 // width of a character of the 10px monospaced font
)

// phaseColors colour messages by the protocol phase they belong to.
var phaseColors = map[string]string{
	"REQUEST":       "#6b7280",
	"PRE-PREPARE":   "#2563eb",
	"PREPARE":       "#16a34a",
	"COMMIT":        "#9333ea",
	"REPLY":         "#0f766e",
	"CHECKPOINT":    "#ca8a04",
	"VIEW-CHANGE":   "#dc2626",
	"NEW-VIEW":      "#b91c1c",
	"STATE-REQUEST": "#92400e",
	"STATE-REPLY":   "#92400e",
}

// Legend lists the message kinds in the order a request meets them, with
// their colours, for the key above each diagram.
func Legend() [][2]string {
	var out [][2]string
	for _, k := range []string{"REQUEST", "PRE-PREPARE", "PREPARE", "COMMIT", "REPLY", "CHECKPOINT", "VIEW-CHANGE", "NEW-VIEW", "STATE-REQUEST"} {
		out = append(out, [2]string{k, phaseColors[k]})
	}
	return out
}

func colorOf(kind string) string {
	if c, ok := phaseColors[kind]; ok {
		return c
	}
	return "#374151"
}

// negative reports whether a vote says no: such arrows are dashed, so that
// conflicting votes stand out from agreeing ones.
func negative(vote string) bool { return vote == "no" || vote == "abort" || vote == "aborted" }

// Diagram draws a trace as a space-time diagram in SVG: one vertical lane
// per client and replica, time running down, one arrow per delivered
// message from the row it was sent in to the row it arrived in, coloured by
// phase and labelled with view, sequence number and vote. Script lines are
// bands across all lanes; crashes, recoveries, checkpoints and new views
// are marked on their lanes.
func Diagram(t *Trace) string {
	if t == nil {
		return ""
	}
	d := newDrawing(t)
	d.layout()
	return d.svg()
}

type drawing struct {
	t      *Trace
	lanes  []string       // lane names, client first
	laneOf map[string]int // name to lane
	byz    map[string]bool
	// what to draw, filled by layout
	rows      int
	y         int         // current bottom
	sendY     map[int]int // send event index to its row's y
	lastSend  int         // index of the previous event when it was a send, or -1
	lastFrom  string
	arrows    []arrow
	bands     []band
	marks     []mark
	crashedAt map[int]int // lane to y where it went down
	downs     [][3]int    // lane, from y, to y: stretches a replica was down
	views     map[int]bool
	leftOut   int // events not drawn
}

type arrow struct {
	x1, y1, x2, y2 int
	color, label   string
	title          string
	dashed, faint  bool
	bold, lost     bool
}

type band struct {
	y          int // the band's line; its text sits above it
	lines      []string
	color      string
	dashed     bool
	textOffset int
}

type mark struct {
	x, y   int
	symbol string // "crash", "recover", "checkpoint", "drop"
	text   string
}

func newDrawing(t *Trace) *drawing {
	d := &drawing{t: t, laneOf: map[string]int{}, byz: map[string]bool{}, sendY: map[int]int{},
		crashedAt: map[int]int{}, views: map[int]bool{}, lastSend: -1}
	n := t.Replicas
	if n <= 0 {
		n = 4
	}
	d.lanes = append(d.lanes, "client")
	for i := range n {
		d.lanes = append(d.lanes, "P"+strconv.Itoa(i))
	}
	for i, l := range d.lanes {
		d.laneOf[l] = i
	}
	for _, b := range t.Byzantine {
		d.byz[b] = true
	}
	return d
}

func laneX(i int) int { return laneLeft + i*laneGap }

func (d *drawing) width() int { return laneX(len(d.lanes)-1) + laneLeft + 40 }

// row starts a new row of height h and returns its y.
func (d *drawing) row(h int) int {
	d.rows++
	d.y += h
	d.lastSend = -1
	return d.y
}

func (d *drawing) layout() {
	d.y = headerH
	// A long run is drawn from its beginning and its end, with a note
	// where events are skipped: the trace's own gap, and the diagram's
	// when the events kept still need more rows than it draws.
	events, gap, skipped := d.t.Events, d.t.Gap, d.t.Omitted
	if len(events) > MaxDiagramRows {
		head, tail := MaxDiagramRows-MaxDiagramRows/3-1, MaxDiagramRows/3
		skipped += len(events) - head - tail
		events = append(events[:head:head], events[len(events)-tail:]...)
		gap = head
	}
	d.leftOut = skipped - d.t.Omitted
	for i, e := range events {
		if skipped > 0 && i == gap {
			y := d.row(stepRowH)
			d.bands = append(d.bands, band{y: y, lines: []string{leftOutNote(skipped, d.t.Replay)}, color: "#b91c1c", dashed: true})
		}
		if d.rows >= MaxDiagramRows {
			d.leftOut += len(events) - i
			break
		}
		from, okFrom := d.laneOf[e.From]
		to, okTo := d.laneOf[e.To]
		switch e.Kind {
		case KindStep, KindNote:
			// A step's text may run over several lines (what "status"
			// printed); each gets a line of the band, up to a few.
			text, color, dashed := e.Text, "#9ca3af", false
			if e.Kind == KindNote {
				text, color, dashed = "! "+e.Text, "#ea580c", true
			}
			lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
			if len(lines) > maxBandLines {
				lines = append(lines[:maxBandLines-1], fmt.Sprintf("... %d more lines in the transcript", len(lines)-maxBandLines+1))
			}
			y := d.row(stepRowH + bandLineH*(len(lines)-1))
			d.bands = append(d.bands, band{y: y, lines: lines, color: color, dashed: dashed})
		case KindSend:
			if !okFrom {
				continue
			}
			// A broadcast's sends share one row.
			if d.lastSend >= 0 && d.lastFrom == e.From {
				d.sendY[e.Index] = d.y
				d.lastSend = e.Index
				continue
			}
			y := d.row(rowH)
			d.sendY[e.Index] = y
			d.lastSend, d.lastFrom = e.Index, e.From
			if e.Msg != nil && e.Msg.Kind == "NEW-VIEW" && !d.views[e.Msg.View] {
				d.views[e.Msg.View] = true
				d.bands = append(d.bands, band{y: y - rowH/2, lines: []string{fmt.Sprintf("view %d: %s is primary", e.Msg.View, e.From)}, color: "#b91c1c", dashed: true, textOffset: laneX(from) + 8})
			}
		case KindDeliver, KindLost:
			if !okFrom || !okTo || e.Msg == nil {
				continue
			}
			y := d.row(rowH)
			sy, ok := d.sendY[e.Send]
			if !ok {
				sy = y - rowH
			}
			label := e.Msg.Kind + " " + e.Msg.Label
			title := fmt.Sprintf("%s -> %s  %s", e.From, e.To, e.Msg.Text)
			if e.Dup {
				title += "  (delivered again)"
			}
			if e.Kind == KindLost {
				title += fmt.Sprintf("  (lost: %s is down)", e.To)
			}
			if e.Forged {
				title += "  (Byzantine vote)"
			}
			d.arrows = append(d.arrows, arrow{
				x1: laneX(from), y1: sy, x2: laneX(to), y2: y,
				color: colorOf(e.Msg.Kind), label: label, title: title,
				dashed: negative(e.Msg.Vote), faint: e.Dup, bold: e.Forged || d.byz[e.From], lost: e.Kind == KindLost,
			})
		case KindDrop:
			if !okFrom {
				continue
			}
			y := d.row(rowH)
			text := "dropped"
			if e.Msg != nil {
				text = fmt.Sprintf("dropped %s %s to %s", e.Msg.Kind, e.Msg.Label, e.To)
			}
			d.marks = append(d.marks, mark{x: laneX(from), y: y, symbol: "drop", text: text})
		case KindCrash:
			if !okFrom {
				continue
			}
			y := d.row(stepRowH)
			d.marks = append(d.marks, mark{x: laneX(from), y: y, symbol: "crash", text: e.From + " crashed"})
			d.crashedAt[from] = y
		case KindRecover:
			if !okFrom {
				continue
			}
			y := d.row(stepRowH)
			d.marks = append(d.marks, mark{x: laneX(from), y: y, symbol: "recover", text: e.From + " recovered"})
			if at, ok := d.crashedAt[from]; ok {
				d.downs = append(d.downs, [3]int{from, at, y})
				delete(d.crashedAt, from)
			}
		case KindCheckpoint:
			if !okFrom {
				continue
			}
			y := d.row(rowH)
			d.marks = append(d.marks, mark{x: laneX(from), y: y, symbol: "checkpoint", text: e.Text})
		}
	}
	d.y += rowH
	// Lane by lane, so that the same run draws the same page.
	for _, lane := range slices.Sorted(maps.Keys(d.crashedAt)) {
		d.downs = append(d.downs, [3]int{lane, d.crashedAt[lane], d.y})
	}
}

func (d *drawing) svg() string {
	var b strings.Builder
	w, h := d.width(), d.y+rowH

	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="%d" height="%d" viewBox="0 0 %d %d" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="10">`, w, h, w, h)
	b.WriteString("\n")
	// Lanes and their names.
	for i, name := range d.lanes {
		x := laneX(i)
		label, color := name, "#111827"
		if d.byz[name] {
			label, color = name+" (Byzantine)", "#b91c1c"
		}
		if i == 1 {
			label += " · first primary"
		}
		fmt.Fprintf(&b, `<text x="%d" y="18" text-anchor="middle" font-size="13" font-weight="bold" fill="%s">%s</text>`+"\n", x, color, esc(label))
		fmt.Fprintf(&b, `<line x1="%d" y1="26" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"/>`+"\n", x, x, h-4, color)
	}
	for _, dn := range d.downs {
		x := laneX(dn[0])
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dc2626" stroke-width="5" stroke-opacity="0.25"/>`+"\n", x, dn[1], x, dn[2])
	}
	for _, bd := range d.bands {
		dash := ""
		if bd.dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<line x1="4" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="0.8"%s/>`+"\n", bd.y, w-4, bd.y, bd.color, dash)
		tx := 6
		if bd.textOffset > 0 {
			tx = bd.textOffset
		}
		top := bd.y - 4 - bandLineH*(len(bd.lines)-1)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" font-style="italic" class="halo" xml:space="preserve">`, tx, top, bd.color)
		for i, line := range bd.lines {
			dy := 0
			if i > 0 {
				dy = bandLineH
			}
			fmt.Fprintf(&b, `<tspan x="%d" dy="%d">%s</tspan>`, tx, dy, esc(line))
		}
		b.WriteString("</text>\n")
	}
	// Lines first, labels after, so that no line crosses a label.
	for _, a := range d.arrows {
		drawArrow(&b, a)
	}
	for _, a := range d.arrows {
		drawLabel(&b, a)
	}
	for _, m := range d.marks {
		drawMark(&b, m)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func drawArrow(b *strings.Builder, a arrow) {
	attrs := fmt.Sprintf(`stroke="%s" stroke-width="%s"`, a.color, pickStr(a.bold, "2", "1.3"))
	if a.dashed {
		attrs += ` stroke-dasharray="5 3"`
	}
	if a.faint {
		attrs += ` stroke-opacity="0.45"`
	}
	dx, dy := float64(a.x2-a.x1), float64(a.y2-a.y1)
	length := math.Hypot(dx, dy)
	if length == 0 {
		return
	}
	ux, uy := dx/length, dy/length
	// Stop short of the lane so the head sits on it.
	hx, hy := float64(a.x2), float64(a.y2)
	fmt.Fprintf(b, `<g><title>%s</title>`, esc(a.title))
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%.1f" y2="%.1f" %s/>`, a.x1, a.y1, hx-ux*6, hy-uy*6, attrs)
	// The arrowhead, drawn as a triangle so it needs no marker definitions.
	px, py := -uy, ux
	fmt.Fprintf(b, `<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s"%s/>`,
		hx, hy, hx-ux*8+px*3.5, hy-uy*8+py*3.5, hx-ux*8-px*3.5, hy-uy*8-py*3.5, a.color, pickStr(a.faint, ` fill-opacity="0.45"`, ""))
	if a.lost {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#dc2626" font-size="13" text-anchor="middle">✕</text>`, hx-ux*14, hy-uy*14+4)
	}
	b.WriteString("</g>\n")
}

// drawLabel writes an arrow's label part of the way along it, on a white
// halo, with the arrow's description as its tooltip.
func drawLabel(b *strings.Builder, a arrow) {
	dx, dy := float64(a.x2-a.x1), float64(a.y2-a.y1)
	lx, ly := float64(a.x1)+dx*labelFrac, float64(a.y1)+dy*labelFrac
	weight := pickStr(a.bold, ` font-weight="bold"`, "")
	// The font is monospaced, so the label's width is known without
	// measuring it: a white box under it keeps crossing lines out of it.
	w := float64(utf8.RuneCountInString(a.label))*charW + 4
	fmt.Fprintf(b, `<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="12" rx="2" fill="#fff" fill-opacity="0.9"/>`, esc(a.title), lx-w/2, ly-6, w)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s"%s>%s</text></g>`+"\n", lx, ly+3.5, a.color, weight, esc(a.label))
}

func drawMark(b *strings.Builder, m mark) {
	switch m.symbol {
	case "crash":
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" font-size="18" fill="#dc2626">✕</text>`, m.x, m.y+6)
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="#dc2626" font-weight="bold" class="halo">%s</text>`+"\n", m.x+12, m.y+4, esc(m.text))
	case "recover":
		fmt.Fprintf(b, `<circle cx="%d" cy="%d" r="6" fill="#16a34a"/>`, m.x, m.y)
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="#16a34a" font-weight="bold" class="halo">%s</text>`+"\n", m.x+12, m.y+4, esc(m.text))
	case "checkpoint":
		fmt.Fprintf(b, `<polygon points="%d,%d %d,%d %d,%d %d,%d" fill="#ca8a04"/>`, m.x, m.y-5, m.x+5, m.y, m.x, m.y+5, m.x-5, m.y)
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="#ca8a04" class="halo">%s</text>`+"\n", m.x+9, m.y+4, esc(m.text))
	default:
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="#6b7280">×</text>`, m.x, m.y+4)
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="#6b7280" class="halo">%s</text>`+"\n", m.x+9, m.y+4, esc(m.text))
	}
}

func pickStr(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// escaper escapes text for SVG and HTML alike. It is built once: a
// replacer builds its tables on first use, which costs more than the
// escaping of a whole diagram's labels.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// esc escapes text for SVG and HTML alike.
func esc(s string) string { return escaper.Replace(s) }

// leftOutNote says what a diagram skips and where the whole run is: the
// report keeps the beginning and the end of a long run only, so it
// points to the replay command, whose output has it all.
func leftOutNote(n int, replay string) string {
	if replay == "" {
		return fmt.Sprintf("... the diagram skips ahead here: %d more events are not drawn or kept in this report", n)
	}
	return fmt.Sprintf("... the diagram skips ahead here: %d more events are not drawn or kept in this report; %s V=1 prints the whole run", n, replay)
}
