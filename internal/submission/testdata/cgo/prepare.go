package skeleton

import "C"

import "unsafe"

func size() uintptr { return unsafe.Sizeof(0) }
