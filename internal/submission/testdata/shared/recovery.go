package skeleton

import (
	"errors"
	"strconv"
	"unicode"

	"pbftlab/lab"
)

// Every replica of the process would see this map.
var peers = map[lab.ID]lab.Status{}

var (
	_       = spin()
	counter int
)

func init() {
	counter++
}

func spin() int {
	for {
	}
}

const fine = 3

type alsoFine struct{ n int }

func leaks(err error) bool {
	errors.ErrUnsupported = err
	unicode.Upper = nil
	return errors.Is(err, strconv.ErrRange) || unicode.IsUpper('A') || unicode.MaxRune > 0
}
