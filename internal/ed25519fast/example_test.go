// Copyright 2026 The kycvs Authors. SPDX-License-Identifier: BSD-3-Clause

package ed25519fast_test

import (
	"crypto/ed25519"
	"fmt"

	"github.com/kycvs/kycvs/internal/ed25519fast"
)

func Example() {
	seed := make([]byte, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	msg := []byte("header.payload")
	sig := ed25519.Sign(priv, msg)

	// Once per key, e.g. when parsing a JWKS: checks the key, builds tables.
	k, err := ed25519fast.NewPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		panic(err)
	}
	fmt.Println(k.Verify(msg, sig), k.Verify([]byte("header.other"), sig))

	// Small-order keys are refused.
	_, err = ed25519fast.NewPublicKey(make([]byte, 32)) // y = 0: a point of order 4
	fmt.Println(err)
	// Output:
	// true false
	// ed25519fast: public key is of small order
}
