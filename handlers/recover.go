package handlers

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"
)

// PanicError is what a panic in a handler becomes: a 500 for the client, and for the
// log (and error reporting) the panic's value with the stack of the goroutine where
// it happened, which is otherwise lost once the panic is recovered.
type PanicError struct {
	Value   any
	Stack   []byte    // the goroutine's stack as text, for the log
	Callers []uintptr // the same stack as program counters, innermost first, for error reporting
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic's value when it was an error, so errors.Is/As see through.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// recoverPanics turns a panic further down the chain into a *PanicError, so that one
// bad request answers 500 and logs its stack instead of killing the node.
func recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			pcs := make([]uintptr, 64)
			err = &PanicError{Value: r, Stack: debug.Stack(), Callers: pcs[:runtime.Callers(1, pcs)]}
		}
	}()
	return c.Next()
}
