//go:build tools

// Package tools pins the binaries built for the test environment.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
