package skeleton

// A file the kit's tree does not have is not taken.
