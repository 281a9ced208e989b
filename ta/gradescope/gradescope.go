// Package gradescope builds Gradescope's autograder zip: its setup and
// run scripts (the templates beside this file) and the kit without the
// reference, so that Gradescope grades a submission as make grade does.
package gradescope

import (
	"archive/zip"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"pbftlab/grader"
	"pbftlab/grader/driver"
	"pbftlab/internal/atomicfile"
	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
	"pbftlab/internal/submission"
)

// The bundle's two scripts, at the root of the zip as Gradescope wants
// them, come from these templates in the kit.
const (
	gradescopeDir   = "ta/gradescope"
	setupScript     = "setup.sh"
	autograderEntry = "run_autograder"
)

// bundledCases is the folder of the bundle that holds the TA's case files
// (-cases), beside the kit's own cases/: those ship in the student release
// too, so secret cases cannot live there.
const bundledCases = "autograder-cases"

// bundleTime stamps every entry, so that one kit always gives the same zip.
var bundleTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var goRelease = regexp.MustCompile(`^go1\.\d+(\.\d+)?$`)

// Command is "pbftlab gradescope": it writes the autograder zip.
func Command(args []string, stdout, stderr io.Writer) int {
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab gradescope:", err)
		return cmdline.ExitUsage
	}
	var out string
	var s bundleSettings
	fs := cmdline.NewFlags("pbftlab", "gradescope", "gradescope [-out FILE] [-cases DIR] [-hidden LIST] [-go VERSION]", stderr)
	fs.StringVar(&out, "out", filepath.Join(root, "dist", "gradescope", "autograder.zip"), "the zip to write")
	fs.StringVar(&s.cases, "cases", "", "a folder of case files (the TA's, secret ones included) that the zip carries and grades in place of the kit's cases/, as grade -cases does (default: the kit's cases/, which students have too)")
	fs.StringVar(&s.hidden, "hidden", os.Getenv(driver.HiddenEnv), "TA-only cases of the graded folder, as for grade: students see them once grades are published")
	fs.StringVar(&s.goVersion, "go", runtime.Version(), "the Go release setup.sh installs")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if !goRelease.MatchString(s.goVersion) {
		fmt.Fprintf(stderr, "pbftlab gradescope: %q is not a Go release setup.sh can download (want e.g. go1.26.8); pass -go\n", s.goVersion)
		return cmdline.ExitUsage
	}
	for _, p := range []*string{&out, &s.cases} {
		if *p == "" {
			continue
		}
		if *p, err = filepath.Abs(*p); err != nil {
			fmt.Fprintln(stderr, "pbftlab gradescope:", err)
			return cmdline.ExitUsage
		}
	}
	if s.cases == filepath.Join(root, "cases") {
		s.cases = "" // the kit's own, already in the bundle
	}
	hides, err := hiddenCases(cmp.Or(s.cases, filepath.Join(root, "cases")), s.hidden)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab gradescope:", err)
		return cmdline.ExitUsage
	}
	b, err := writeBundle(root, out, s)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab gradescope:", err)
		return cmdline.ExitUsage
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %s and %d kit files", out, setupScript, autograderEntry, b.kitFiles)
	if s.cases != "" {
		fmt.Fprintf(stdout, ", and %d case files from %s in %s/, graded in place of the kit's cases/", b.caseFiles, s.cases, bundledCases)
	}
	fmt.Fprintf(stdout, " (Go %s", s.goVersion)
	if len(hides) > 0 {
		fmt.Fprintf(stdout, "; TA-only cases: %s", strings.Join(hides, ", "))
	}
	fmt.Fprintln(stdout, ")")
	if dir := cmp.Or(s.cases, filepath.Join(root, "cases")); len(hides) > 0 && inRelease(root, dir) {
		fmt.Fprintf(stdout, "note: the TA-only cases are in %s, which the student release (make handout) carries too: students can read them; keep cases they must not see in a folder outside the kit, or not committed to it, and pass -cases (make gradescope CASES=dir)\n", dir)
	}
	fmt.Fprintln(stdout, "upload it as the assignment's autograder; students submit their skeleton/ files")
	return cmdline.ExitOK
}

// inRelease reports whether the folder dir holds files the student
// release carries: files git tracks in the kit at root, outside its
// TA-only folders.
func inRelease(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	files, err := submission.TrackedFiles(root)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	return slices.ContainsFunc(files, func(f string) bool { return kit.Under(f, rel) && kit.InRelease(f) })
}

// hiddenCases loads the cases the bundle grades and returns those the
// TA-only list hides. A list entry that hides none is an error: the zip
// would otherwise show students the case it was meant to keep from them.
func hiddenCases(dir, hidden string) ([]string, error) {
	cases, err := grader.LoadCases(dir)
	if err != nil {
		return nil, err
	}
	return driver.HiddenCases(cases, dir, hidden)
}

type bundleSettings struct {
	hidden    string // TA-only case names or patterns
	goVersion string // e.g. go1.26.8
	cases     string // the TA's case folder (absolute), or "" for the kit's cases/
}

// bundled is what went into a bundle.
type bundled struct {
	kitFiles  int // the kit's own files
	caseFiles int // the TA's case files, in bundledCases
}

// casesFolder is the case folder run_autograder and setup.sh grade with,
// relative to the kit's root in the bundle.
func (s bundleSettings) casesFolder() string {
	if s.cases != "" {
		return bundledCases
	}
	return "cases"
}

// writeBundle writes the autograder zip: the two scripts at its root, with
// the settings filled in, the kit beside them, so that Gradescope's
// /autograder/source is the kit's root, and the TA's case files, if any,
// in bundledCases.
func writeBundle(root, out string, s bundleSettings) (bundled, error) {
	var b bundled
	scripts := map[string][]byte{}
	for _, name := range []string{setupScript, autograderEntry} {
		tmpl, err := os.ReadFile(filepath.Join(root, gradescopeDir, name))
		if err != nil {
			return b, err
		}
		scripts[name] = fillTemplate(tmpl, s)
	}
	files, err := bundleFiles(root, out)
	if err != nil {
		return b, err
	}
	cases, err := caseFiles(s.cases)
	if err != nil {
		return b, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return b, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{setupScript, autograderEntry} {
		if err := addEntry(zw, name, 0o755, scripts[name]); err != nil {
			return b, err
		}
	}
	for _, rel := range files {
		if kit.Under(rel, bundledCases) {
			return b, fmt.Errorf("the kit has %s, where the bundle puts the TA's cases; rename it", rel)
		}
		if err := addFile(zw, rel, filepath.Join(root, filepath.FromSlash(rel))); err != nil {
			return b, err
		}
	}
	for _, rel := range cases {
		if err := addFile(zw, bundledCases+"/"+rel, filepath.Join(s.cases, filepath.FromSlash(rel))); err != nil {
			return b, err
		}
	}
	if err := zw.Close(); err != nil {
		return b, err
	}
	b.kitFiles, b.caseFiles = len(files), len(cases)
	return b, atomicfile.Write(out, buf.Bytes())
}

// addFile adds the file at path to the zip as name, keeping its
// permission bits (a script stays executable).
func addFile(zw *zip.Writer, name, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return addEntry(zw, name, fi.Mode().Perm()|0o644, data)
}

// caseFiles lists the case files of the TA's folder dir, as slash paths
// relative to it: exactly the files grade -cases reads there (the
// folder's cases and its robustness/), as the loader finds them, so that
// the bundle carries what the grade reads and nothing else, even when dir
// is a folder holding more than cases.
func caseFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	cases, err := grader.LoadCases(dir)
	if err != nil {
		return nil, err
	}
	files := make([]string, 0, len(cases))
	for _, c := range cases {
		rel, err := filepath.Rel(dir, c.File)
		if err != nil {
			return nil, err
		}
		files = append(files, filepath.ToSlash(rel))
	}
	return files, nil
}

// fillTemplate puts the bundle's settings into a script. The hidden list
// lands inside double quotes in the shell, so it is kept to the characters
// a case name or pattern uses.
func fillTemplate(tmpl []byte, s bundleSettings) []byte {
	hidden := strings.Map(func(r rune) rune {
		if r == ',' || r == '*' || r == '?' || r == '_' || r == '-' || r == '.' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s.hidden)
	return []byte(strings.NewReplacer(
		"__PBFTLAB_HIDDEN__", hidden,
		"__PBFTLAB_GO_VERSION__", s.goVersion,
		"__PBFTLAB_CASES__", s.casesFolder(),
	).Replace(string(tmpl)))
}

// bundleFiles lists the kit files that go into the bundle: the files git
// tracks, as the student release takes them (submission.TrackedFiles), but
// the reference, run output, the zip itself, and tests that need the
// reference to build. Untracked files stay out: a TA's scratch folder, a
// student's hand-in being looked at, or a copy of the reference under
// another name would otherwise reach Gradescope's image, where a
// submission's code runs.
func bundleFiles(root, out string) ([]string, error) {
	all, err := submission.TrackedFiles(root)
	if err != nil {
		return nil, err
	}
	outRel, _ := filepath.Rel(root, out)
	outRel = filepath.ToSlash(outRel)
	module, err := submission.ModulePath(root)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, rel := range all {
		if rel == outRel || kit.Under(rel, kit.Reference) || kit.Under(rel, kit.Leftovers()...) {
			continue
		}
		if strings.HasSuffix(rel, "_test.go") {
			needs, err := kit.ImportsReference(filepath.Join(root, filepath.FromSlash(rel)), module)
			if err != nil {
				return nil, err
			}
			if needs {
				continue
			}
		}
		files = append(files, rel)
	}
	return files, nil
}

func addEntry(zw *zip.Writer, name string, mode os.FileMode, data []byte) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: bundleTime}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
