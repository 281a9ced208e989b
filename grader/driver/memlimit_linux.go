package driver

import (
	"syscall"
	"unsafe"
)

// limitMemory caps the address space of the running process pid. It is
// applied as soon as the process has started: the code it could run
// before that is the Go runtime's and the kit's, since a submission may
// have no package-level initialisers or init functions.
func limitMemory(pid int, bytes uint64) error {
	lim := syscall.Rlimit{Cur: bytes, Max: bytes}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_AS),
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
