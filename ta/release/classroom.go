package release

import (
	"fmt"
	"strings"

	"pbftlab/grader"
)

// ClassroomWorkflow is where the student release carries its GitHub
// Classroom workflow.
const ClassroomWorkflow = ".github/workflows/classroom.yml"

// classroomSpec is one graded spec as GitHub Classroom's autograder sees
// it: a test of its own, worth the spec's points.
type classroomSpec struct {
	name   string
	points int
}

// classroomWorkflow is the workflow a student release grades with on every
// push. One grade runs first and writes the reports, appending summary.md
// to the job summary; then each spec is a test of GitHub Classroom's
// command grader that passes when score.json says the spec passed, so the
// points GitHub Classroom records are the grade's own, spec by spec, out
// of the same total as results.json (the lab's cases and the robustness
// specs). The reporter step sends them to GitHub Classroom.
func classroomWorkflow(specs []classroomSpec) string {
	var b strings.Builder
	b.WriteString(`# Grades this repository on every push and reports the points to GitHub
# Classroom. The grade's summary is on the run's page (the job summary);
# the whole report, with a diagram of every failing case, is the
# "reports" artifact's report.html.
name: Autograding Tests
'on':
  - push
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Go
        uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - name: Grade
        # Writes reports/ and appends summary.md to the job summary. A
        # failing spec is not a failing step: the steps below score each.
        run: go run ./cmd/pbftlab grade -reports reports || true
      - name: Keep the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: reports
          path: reports/
`)
	var ids []string
	for _, s := range specs {
		id := strings.ReplaceAll(s.name, "_", "-")
		ids = append(ids, id)
		fmt.Fprintf(&b, `      - name: %s
        id: %s
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: %s
          command: jq -e '.cases[] | select(.name == "%s") | .state == "passed"' reports/score.json
          timeout: 1
          max-score: %d
`, s.name, id, s.name, s.name, s.points)
	}
	b.WriteString(`      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
`)
	for _, id := range ids {
		fmt.Fprintf(&b, "          %s_RESULTS: \"${{ steps.%s.outputs.result }}\"\n", strings.ToUpper(id), id)
	}
	fmt.Fprintf(&b, "        with:\n          runners: %s\n", strings.Join(ids, ","))
	return b.String()
}

// classroomSpecs lists every spec a grade of the kit at root runs: the
// case folder's cases, the robustness cases among them.
func classroomSpecs(root string) ([]classroomSpec, error) {
	cases, err := grader.LoadCases(root + "/cases")
	if err != nil {
		return nil, err
	}
	var specs []classroomSpec
	for _, c := range cases {
		specs = append(specs, classroomSpec{grader.Name(c), c.Points})
	}
	return specs, nil
}
