package report

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// svgDoc is the part of a diagram the tests read back.
type svgDoc struct {
	RawTexts []svgText `xml:"text"`
	Lines    []svgLine `xml:"line"`
	Groups   []svgG    `xml:"g"`
	Texts    []string  // each text's words, its lines joined by newlines
}

type svgText struct {
	Text  string   `xml:",chardata"`
	Spans []string `xml:"tspan"`
}

type svgLine struct {
	Stroke string `xml:"stroke,attr"`
	Dash   string `xml:"stroke-dasharray,attr"`
}

type svgG struct {
	Title string    `xml:"title"`
	Lines []svgLine `xml:"line"`
	Texts []string  `xml:"text"`
	Inner []svgG    `xml:"g"`
}

func parseSVG(t *testing.T, s string) svgDoc {
	t.Helper()
	var d svgDoc
	require.NoError(t, xml.Unmarshal([]byte(s), &d), "the diagram must be well-formed")
	for _, tx := range d.RawTexts {
		d.Texts = append(d.Texts, tx.Text+strings.Join(tx.Spans, "\n"))
	}
	return d
}

func TestDiagramDrawsOneArrowPerDelivery(t *testing.T) {
	d := parseSVG(t, Diagram(equivocation(true)))
	var arrows, labels []svgG
	for _, g := range d.Groups {
		if len(g.Lines) > 0 {
			arrows = append(arrows, g)
		} else if len(g.Texts) > 0 {
			labels = append(labels, g)
		}
	}
	// Two pre-prepares, P3's yes to P0, its no to P1, and the no lost at P2.
	require.Len(t, arrows, 5)
	require.Len(t, labels, 5)
	var texts []string
	for _, l := range labels {
		texts = append(texts, l.Texts[0])
	}
	assert.Equal(t, []string{"PRE-PREPARE v0 n1", "PRE-PREPARE v0 n1", "PREPARE v0 n1 yes", "PREPARE v0 n1 no", "PREPARE v0 n1 no"}, texts)
	assert.Equal(t, "P3 -> P1  PREPARE v0 n1 no  (Byzantine vote)", arrows[3].Title)
	assert.Contains(t, arrows[4].Title, "(lost: P2 is down)")
}

func TestDiagramColoursByPhaseAndDashesNoVotes(t *testing.T) {
	d := parseSVG(t, Diagram(equivocation(true)))
	var arrows []svgLine
	for _, g := range d.Groups {
		arrows = append(arrows, g.Lines...)
	}
	require.Len(t, arrows, 5)
	assert.Equal(t, phaseColors["PRE-PREPARE"], arrows[0].Stroke)
	assert.Equal(t, phaseColors["PREPARE"], arrows[2].Stroke)
	assert.Empty(t, arrows[2].Dash, "a yes vote is solid")
	assert.NotEmpty(t, arrows[3].Dash, "a no vote is dashed")
}

func TestDiagramNamesLanesAndMarksCrashes(t *testing.T) {
	d := parseSVG(t, Diagram(equivocation(true)))
	all := strings.Join(d.Texts, "\n")
	for _, want := range []string{"client", "P0 · first primary", "P1", "P2", "P3 (Byzantine)", "P2 crashed", "P2 recovered", "P3 (replica, Byzantine): prepare to P0 yes"} {
		assert.Contains(t, all, want)
	}
}

// The same trace draws the same diagram, byte for byte, however many
// replicas are down at the end.
func TestDiagramOfReplicasLeftDownIsTheSameEveryTime(t *testing.T) {
	tr := &Trace{Replicas: 4, Events: []Event{
		{Kind: KindCrash, Index: 0, Send: -1, From: "P3", To: "P3"},
		{Kind: KindCrash, Index: 1, Send: -1, From: "P1", To: "P1"},
		{Kind: KindCrash, Index: 2, Send: -1, From: "P2", To: "P2"},
	}}
	first := Diagram(tr)
	assert.Len(t, parseSVG(t, first).Lines, 5+3, "the lanes, and a band for each replica down")
	for range 20 {
		require.Equal(t, first, Diagram(tr))
	}
}

func TestDiagramShowsEveryLineOfAStep(t *testing.T) {
	tr := &Trace{Replicas: 4, Events: []Event{{Kind: KindStep, Send: -1, Text: "P0 (primary): status\n  view 0\n  balances: alice=80"}}}
	d := parseSVG(t, Diagram(tr))
	assert.Contains(t, d.Texts, "P0 (primary): status\n  view 0\n  balances: alice=80")
	long := strings.Repeat("line\n", 50)
	d = parseSVG(t, Diagram(&Trace{Replicas: 4, Events: []Event{{Kind: KindStep, Send: -1, Text: long}}}))
	assert.Contains(t, strings.Join(d.Texts, "\n"), "... 43 more lines in the transcript")
}

func TestDiagramMarksNewViews(t *testing.T) {
	nv := &Msg{Kind: "NEW-VIEW", View: 1, Label: "v1", Text: "NEW-VIEW v1"}
	tr := &Trace{Replicas: 4, Events: []Event{
		{Kind: KindSend, Index: 0, Send: -1, From: "P1", To: "P0", Msg: nv},
		{Kind: KindDeliver, Index: 1, Send: 0, From: "P1", To: "P0", Msg: nv},
	}}
	d := parseSVG(t, Diagram(tr))
	assert.Contains(t, strings.Join(d.Texts, "\n"), "view 1: P1 is primary")
}

func TestDiagramSkipsTheMiddleOfALongRun(t *testing.T) {
	m := &Msg{Kind: "PREPARE", Label: "v0 n1 yes", Vote: "yes"}
	last := &Msg{Kind: "CHECKPOINT", Label: "n100", Text: "CHECKPOINT n100"}
	tr := &Trace{Replicas: 4, Omitted: 7, Gap: 300}
	for i := range MaxDiagramRows + 100 {
		msg := m
		if i == MaxDiagramRows+99 {
			msg = last
		}
		tr.Events = append(tr.Events, Event{Kind: KindDeliver, Index: i, Send: -1, From: "P1", To: "P2", Msg: msg})
	}
	out := Diagram(tr)
	d := parseSVG(t, out)
	arrows := 0
	for _, g := range d.Groups {
		if len(g.Lines) > 0 {
			arrows++
		}
	}
	assert.Equal(t, MaxDiagramRows-1, arrows, "one row goes to the note")
	texts := strings.Join(d.Texts, "\n")
	assert.Contains(t, texts, fmt.Sprintf("skips ahead here: %d more events are not drawn", 550-arrows+7))
	assert.Contains(t, out, "CHECKPOINT n100", "the end of the run is drawn")
}

func TestDiagramOfNothing(t *testing.T) {
	assert.Empty(t, Diagram(nil))
	parseSVG(t, Diagram(&Trace{}))
}

func TestLeftOutNotePointsToTheWholeRun(t *testing.T) {
	tests := []struct {
		replay string
		want   string
	}{
		{"make grade CASE=case7_checkpoint SEED=1 RUNS=1", "7 more events are not drawn or kept in this report; make grade CASE=case7_checkpoint SEED=1 RUNS=1 V=1 prints the whole run"},
		{"", "7 more events are not drawn or kept in this report"},
	}
	for _, tt := range tests {
		assert.Contains(t, leftOutNote(7, tt.replay), tt.want)
		assert.NotContains(t, leftOutNote(7, tt.replay), "the transcript has them")
	}
}
