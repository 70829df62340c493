//go:build tools

// Package tools pins the binaries built for the test environment.
package tools

import (
	_ "github.com/fsouza/fake-gcs-server"
)
