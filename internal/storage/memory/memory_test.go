package memory_test

import (
	"testing"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/conformance"
	"github.com/inlay/inlay/internal/storage/memory"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) storage.Store { return memory.New() })
}
