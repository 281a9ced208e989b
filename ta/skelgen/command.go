package skelgen

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"pbftlab/internal/cmdline"
	"pbftlab/internal/kit"
)

// Command is pbftlab's skeleton command: it writes the student tree from
// the reference's markers, or with -check only compares.
func Command(args []string, stdout, stderr io.Writer) int {
	root, err := kit.Root()
	if err != nil {
		fmt.Fprintln(stderr, "pbftlab skeleton:", err)
		return cmdline.ExitUsage
	}
	o := Options{Root: root}
	var check bool
	var fill, out string
	fs := cmdline.NewFlags("pbftlab", "skeleton", "skeleton [-from DIR] [-to DIR] [-check] [-fill PHASE,...] [-out DIR]", stderr)
	fs.StringVar(&o.From, "from", "solution", "the reference tree, with BEGIN TODO ... END TODO markers")
	fs.StringVar(&o.To, "to", "skeleton", "the tree to write")
	fs.BoolVar(&check, "check", false, "write nothing; fail when the tree differs from what would be written")
	fs.StringVar(&fill, "fill", "", "keep the reference's code in the regions of these phases (a tree halfway through the lab)")
	fs.StringVar(&out, "out", "", "write the tree here instead of into -to (which still names its package)")
	if code, ok := cmdline.ParseNone("pbftlab", fs, args); !ok {
		return code
	}
	if fill != "" {
		o.Fill = strings.Split(fill, ",")
	}
	files, err := Generate(o)
	if err != nil {
		fmt.Fprintf(stderr, "pbftlab skeleton: %v\n", err)
		return cmdline.ExitUsage
	}
	dir := filepath.Join(root, o.To)
	if out != "" {
		dir = out
	}
	if check {
		diffs, err := files.Diff(dir)
		if err != nil {
			fmt.Fprintln(stderr, "pbftlab skeleton:", err)
			return cmdline.ExitUsage
		}
		if len(diffs) > 0 {
			fmt.Fprintf(stderr, "pbftlab skeleton: %s/ is not what %s/ generates (run make skeleton):\n", o.To, o.From)
			for _, d := range diffs {
				fmt.Fprintf(stderr, "  %s/%s\n", o.To, d)
			}
			return cmdline.ExitFailed
		}
		fmt.Fprintf(stdout, "%s/ is up to date with %s/ (%d files)\n", o.To, o.From, len(files))
		return cmdline.ExitOK
	}
	if err := files.Write(dir); err != nil {
		fmt.Fprintln(stderr, "pbftlab skeleton:", err)
		return cmdline.ExitUsage
	}
	fmt.Fprintf(stdout, "wrote %s from %s/ (%d files)\n", dir, o.From, len(files))
	return cmdline.ExitOK
}
