package deploytest_test

import (
	"testing"

	"github.com/switchyard/switchyard/deploy/deploytest"
)

func TestMemoryStorePassesRunStore(t *testing.T) {
	deploytest.RunStore(t, func(t *testing.T) *deploytest.StoreHarness {
		return &deploytest.StoreHarness{Store: deploytest.NewStore()}
	})
}
