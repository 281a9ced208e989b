package skeleton

import (
	"fmt"
	"os"
)

func shout() { fmt.Fprintln(os.Stderr, "prepared") }
