"""`just image` and `just image-test`: build Storefront's container image (docker, else podman) and
check it from the outside, as an operator would run it."""
