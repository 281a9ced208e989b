package skeleton

import (
	"fmt"
	"os"
	"time"

	"net/http"
	"pbftlab/lab"
	"pbftlab/sim"
	"reflect"
	"runtime/debug"
)

func uses() {
	_ = fmt.Sprint
	_ = os.Exit
	_ = time.Now
	var _ lab.ID
	_ = sim.New
	_ = reflect.TypeOf
	_ = http.Get
	_ = debug.Stack
}
