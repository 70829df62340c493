//go:build tools

// Package tools pins the binaries built for the test environment.
package tools

import (
	_ "github.com/Shopify/toxiproxy/v2/cmd/server"
	_ "github.com/Shopify/toxiproxy/v2/cmd/cli"
)
