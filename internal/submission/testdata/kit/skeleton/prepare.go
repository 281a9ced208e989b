package skeleton

// TODO(prepare): the kit's stub.
func vote() bool { return false }
