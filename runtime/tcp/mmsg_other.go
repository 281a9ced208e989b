//go:build !(linux && (amd64 || arm64))

package tcp

import (
	"net"

	"golang.org/x/net/ipv4"
)

// newBatchReader reads batches through the ipv4 or ipv6 package, and
// hands each over, until an error or handle says to stop (see
// mmsg_linux.go for Linux).
func newBatchReader(_ *net.UDPConn, pc batchConn, ms []ipv4.Message) func(handle func(n int) bool) error {
	return func(handle func(n int) bool) error {
		for {
			n, err := pc.ReadBatch(ms, 0)
			if err != nil {
				return err
			}
			if !handle(n) {
				return net.ErrClosed
			}
		}
	}
}
