package skeleton

import "C"

import "unsafe"

var _ = unsafe.Sizeof(0)
