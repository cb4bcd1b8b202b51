package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"
)

// validate checks request structs by their `validate` tags; errors name fields by
// their JSON names.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}

// decodeJSON reads the request body into dst strictly: the body must be one JSON
// object of the declared content type, with no unknown fields (so a client cannot set
// fields it does not own, such as ids, roles or status) and no trailing data; then
// dst's validation tags are checked. Failures are problem+json: 415, 400 or 422, each
// naming the field at fault.
func decodeJSON(c *fiber.Ctx, dst any) error {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	if ct != fiber.MIMEApplicationJSON {
		return newProblem(fiber.StatusUnsupportedMediaType, "The body must be application/json.")
	}
	return decodeStrict(c.Body(), dst)
}

// decodeStrict is decodeJSON without the HTTP: it is what the fuzz target drives.
func decodeStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("", "The body must hold exactly one JSON object.")
	}
	return validationProblem(validate.Struct(dst))
}

// jsonProblem explains a decoding error, naming the field where JSON can tell.
func jsonProblem(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return badRequest(typeErr.Field, "must be a JSON "+jsonKind(typeErr.Type))
	case errors.As(err, &syntaxErr):
		return badRequest("", fmt.Sprintf("The body is not valid JSON (at byte %d).", syntaxErr.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(field, "is not a field of this request, or may not be set by clients")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "The body is empty or cut short.")
	default:
		return badRequest("", "The body is not a valid JSON object.")
	}
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

func badRequest(field, message string) *Problem {
	p := newProblem(fiber.StatusBadRequest, message)
	if field != "" {
		p.Detail = "The request has a bad field."
		p.Errors = []FieldError{{Field: field, Message: message}}
	}
	return p
}

// validationProblem turns validator errors into a 422 listing every bad field.
func validationProblem(err error) error {
	var verrs validator.ValidationErrors
	if err == nil {
		return nil
	}
	if !errors.As(err, &verrs) {
		return badRequest("", "The request cannot be validated.")
	}
	p := newProblem(fiber.StatusUnprocessableEntity, "Some fields are not valid.")
	for _, fe := range verrs {
		p.Errors = append(p.Errors, FieldError{Field: fieldPath(fe), Message: ruleMessage(fe)})
	}
	return p
}

func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return fe.Field()
}

func ruleMessage(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be an email address"
	case "min":
		return "must be at least " + fe.Param() + " long"
	case "max":
		return "must be at most " + fe.Param() + " long"
	case "uuid":
		return "must be a UUID"
	case "oneof":
		return "must be one of " + fe.Param()
	default:
		return "breaks the rule " + fe.Tag()
	}
}
