package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTMLIsSelfContained(t *testing.T) {
	page, err := HTML(crashedRun())
	require.NoError(t, err)
	html := string(page)
	// The only URL in the page is the SVG namespace, which is a name, not
	// something fetched.
	urls := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^"' <]*`).FindAllString(html, -1)
	for _, u := range urls {
		assert.Equal(t, "http://www.w3.org/2000/svg", u)
	}
	for _, banned := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", " src="} {
		assert.NotContains(t, html, banned)
	}
}

func TestHTMLHasASectionPerCase(t *testing.T) {
	page, err := HTML(failingRun())
	require.NoError(t, err)
	html := string(page)
	assert.Equal(t, 2, strings.Count(html, `<section class="case`))
	assert.Contains(t, html, `<section class="case passed" id="case1_deposit">`)
	assert.Contains(t, html, `<section class="case failure" id="case2_withdraw">`)
	assert.Contains(t, html, `<pre class="differ">P1 (view 0, seq 1): request 1: want committed, got aborted</pre>`)
	assert.Contains(t, html, "<code>make grade CASE=case2_withdraw SEED=2 RUNS=1</code>")
	assert.Contains(t, html, "P3 (replica, Byzantine): prepare to P1 no", "the transcript")
	assert.Equal(t, 2, strings.Count(html, `<svg `), "one diagram per traced case")
	assert.Contains(t, html, "TA only")
	assert.Contains(t, html, "Score: 10/22")
}

func TestHTMLEscapesWhatTheReplicaPrinted(t *testing.T) {
	r := failingRun()
	r.Cases[1].Trace.Transcript = "P1: <script>alert(1)</script>\n"
	r.Cases[1].Trace.Events[0].Text = `<img src=x onerror="alert(2)">`
	page, err := HTML(r)
	require.NoError(t, err)
	html := string(page)
	assert.NotContains(t, html, "<script>alert")
	assert.NotContains(t, html, "<img")
	assert.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;")
}

func TestHTMLSaysWhyThereIsNoDiagram(t *testing.T) {
	page, err := HTML(crashedRun())
	require.NoError(t, err)
	assert.Contains(t, string(page), "No run was recorded for this case: did not run: the grade stopped before this case reported")
}

func TestWriteAllWritesEveryReport(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, WriteAll(dir, failingRun()))
	for _, name := range []string{ResultsFile, JUnitFile, SummaryFile, HTMLFile, ScoreFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Positive(t, fi.Size(), name)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 5, "no temporary files left behind")
}
