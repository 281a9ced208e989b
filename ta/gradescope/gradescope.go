// Package gradescope builds Gradescope's autograder zip: its setup and
// run scripts (the templates beside this file) and the kit without the
// reference, so that Gradescope grades a submission as make grade does.
package gradescope

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
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
	var out, hidden, goVersion string
	fs := cmdline.NewFlags("pbftlab", "gradescope", "gradescope [-out FILE] [-hidden LIST] [-go VERSION]", stderr)
	fs.StringVar(&out, "out", filepath.Join(root, "dist", "gradescope", "autograder.zip"), "the zip to write")
	fs.StringVar(&hidden, "hidden", os.Getenv(driver.HiddenEnv), "TA-only cases, as for grade: students see them once grades are published")
	fs.StringVar(&goVersion, "go", runtime.Version(), "the Go release setup.sh installs")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if !goRelease.MatchString(goVersion) {
		fmt.Fprintf(stderr, "pbftlab gradescope: %q is not a Go release setup.sh can download (want e.g. go1.26.8); pass -go\n", goVersion)
		return cmdline.ExitUsage
	}
	if out, err = filepath.Abs(out); err != nil {
		fmt.Fprintln(stderr, "pbftlab gradescope:", err)
		return cmdline.ExitUsage
	}
	hides, err := hiddenCases(filepath.Join(root, "cases"), hidden)
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab gradescope:", err)
		return cmdline.ExitUsage
	}
	files, err := writeBundle(root, out, bundleSettings{hidden: hidden, goVersion: goVersion})
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab gradescope:", err)
		return cmdline.ExitUsage
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %s and %d kit files (Go %s", out, setupScript, autograderEntry, files, goVersion)
	if len(hides) > 0 {
		fmt.Fprintf(stdout, "; TA-only cases: %s", strings.Join(hides, ", "))
	}
	fmt.Fprintln(stdout, ")")
	fmt.Fprintln(stdout, "upload it as the assignment's autograder; students submit their skeleton/ files")
	return cmdline.ExitOK
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
}

// writeBundle writes the autograder zip: the two scripts at its root, with
// the settings filled in, and the kit beside them, so that Gradescope's
// /autograder/source is the kit's root. It returns how many kit files went
// in.
func writeBundle(root, out string, s bundleSettings) (int, error) {
	scripts := map[string][]byte{}
	for _, name := range []string{setupScript, autograderEntry} {
		tmpl, err := os.ReadFile(filepath.Join(root, gradescopeDir, name))
		if err != nil {
			return 0, err
		}
		scripts[name] = fillTemplate(tmpl, s)
	}
	files, err := bundleFiles(root, out)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{setupScript, autograderEntry} {
		if err := addEntry(zw, name, 0o755, scripts[name]); err != nil {
			return 0, err
		}
	}
	for _, rel := range files {
		path := filepath.Join(root, filepath.FromSlash(rel))
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		if err := addEntry(zw, rel, fi.Mode().Perm()|0o644, data); err != nil {
			return 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return len(files), atomicfile.Write(out, buf.Bytes())
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
	out := strings.ReplaceAll(string(tmpl), "__PBFTLAB_HIDDEN__", hidden)
	return []byte(strings.ReplaceAll(out, "__PBFTLAB_GO_VERSION__", s.goVersion))
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
