package hookprooftest

import (
	"errors"
	"unsafe"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
)

// Ginkgo keeps the suite a test binary registered (its Describe/It tree),
// its failer and its configuration in package variables, and a
// certification resets them to run its own specs. These names reach those
// variables so that Certify can put the test binary's suite back untouched
// afterwards; only pointers and the public config types are read, never
// the internals behind them.

//go:linkname ginkgoSuite github.com/onsi/ginkgo/v2/internal/global.Suite
var ginkgoSuite unsafe.Pointer

//go:linkname ginkgoFailer github.com/onsi/ginkgo/v2/internal/global.Failer
var ginkgoFailer unsafe.Pointer

//go:linkname ginkgoSuiteDidRun github.com/onsi/ginkgo/v2/internal/global.SuiteDidRun
var ginkgoSuiteDidRun bool

//go:linkname ginkgoSuiteConfig github.com/onsi/ginkgo/v2.suiteConfig
var ginkgoSuiteConfig types.SuiteConfig

//go:linkname ginkgoReporterConfig github.com/onsi/ginkgo/v2.reporterConfig
var ginkgoReporterConfig types.ReporterConfig

// ginkgoState is the test binary's Ginkgo state while a certification runs.
type ginkgoState struct {
	suite, failer unsafe.Pointer
	didRun        bool
	sc            types.SuiteConfig
	rc            types.ReporterConfig
	formatter     formatter.Formatter
}

// errInsideGinkgo and errParallelGinkgo are the unsupported ways to call
// Certify: the certification would replace the suite that is running.
var (
	errInsideGinkgo   = errors.New("hookprooftest: Certify was called while a Ginkgo node is running (an It, a BeforeSuite, or a test running in parallel with RunSpecs): hookproof's checks are Ginkgo specs and Ginkgo runs one suite per process at a time; call Certify from a plain TestX function that does not run in parallel with a Ginkgo suite")
	errParallelGinkgo = errors.New("hookprooftest: Certify cannot run under `ginkgo -p` (parallel Ginkgo processes); run the Certify tests with go test, or ginkgo without -p")
)

// checkGinkgo refuses to certify where the certification would clobber a
// running Ginkgo suite.
func checkGinkgo() error {
	if sc, _ := ginkgo.GinkgoConfiguration(); sc.ParallelTotal > 1 {
		return errParallelGinkgo
	}
	if ginkgo.CurrentSpecReport().LeafNodeType != types.NodeTypeInvalid {
		return errInsideGinkgo
	}
	return nil
}

func saveGinkgo() ginkgoState {
	return ginkgoState{suite: ginkgoSuite, failer: ginkgoFailer, didRun: ginkgoSuiteDidRun,
		sc: ginkgoSuiteConfig, rc: ginkgoReporterConfig, formatter: formatter.SingletonFormatter}
}

func (s ginkgoState) restore() {
	ginkgoSuite, ginkgoFailer, ginkgoSuiteDidRun = s.suite, s.failer, s.didRun
	ginkgoSuiteConfig, ginkgoReporterConfig = s.sc, s.rc
	formatter.SingletonFormatter = s.formatter
}
