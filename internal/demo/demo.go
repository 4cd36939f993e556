// Package demo generates Inlay's sample data set inside DuckDB: a sales table of a company
// selling plans and services to a few thousand customers over the last two years. Nothing is
// shipped as a file; the rows are computed by one CREATE TABLE ... AS SELECT from hashes of the
// row number, so every run (same row count, same now) gives the same rows.
package demo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// DefaultRows is the size of the demo table.
const DefaultRows = 2_000_000

// Days is the span of the data: ts falls in the Days days before the day of now.
const Days = 729

// Customers is how many distinct customers there are; they are named by CustomerName.
const Customers = 5000

// Regions, in the order of their weights (North busiest).
var Regions = []string{"North", "South", "East", "West"}

var regionWeights = []float64{0.34, 0.18, 0.27, 0.21}

// Departments. Sales and Engineering are the two largest and deliberately unequal, so that
// row-level-security demos filtering by department show visibly different totals.
var Departments = []string{"Sales", "Engineering", "Marketing", "Support", "Finance", "Operations"}

var departmentWeights = []float64{0.31, 0.22, 0.15, 0.14, 0.07, 0.11}

// departmentSpend scales amounts per department (Engineering buys bigger-ticket items).
var departmentSpend = []float64{1.0, 1.35, 0.9, 0.7, 1.1, 0.8}

// Product is one thing sold, at a list price, bought with relative frequency Weight.
type Product struct {
	Name   string
	Price  float64
	Weight float64
}

// Products range from cheap frequent items to rare expensive ones.
var Products = []Product{
	{"API Credits", 9.50, 16},
	{"Storage Pack", 19, 14},
	{"Starter Plan", 29, 13},
	{"Analytics Add-on", 49, 11},
	{"Team Plan", 99, 10},
	{"Training Seat", 150, 8},
	{"Business Plan", 299, 7},
	{"Support Contract", 450, 6},
	{"Hardware Kit", 650, 5},
	{"Onboarding", 800, 4},
	{"Enterprise Plan", 1200, 3},
	{"Consulting Day", 1400, 3},
}

// CustomerName is the name of customer n, 1 <= n <= Customers: "Customer 0042".
func CustomerName(n int) string { return fmt.Sprintf("Customer %04d", n) }

// Exec runs one statement with bound arguments, e.g. (*duckdb.Source).Exec.
type Exec func(ctx context.Context, sql string, args ...any) error

// Generate creates table sales(id, ts, region, department, product, customer, amount) with
// rows rows spread over the Days days before now's day (UTC).
//
// The shape is meant to make charts look alive: volume grows over the two years (about 2.5 times
// as many sales per day at the end as at the start), amounts peak in December and dip in summer,
// weekend sales are smaller, most sales happen in business hours, a few customers buy much more
// than the rest, and quantities have a long tail. The rows depend only on rows and now's day.
func Generate(ctx context.Context, exec Exec, rows int, now time.Time) error {
	if rows < 0 {
		return fmt.Errorf("demo: rows must not be negative, got %d", rows)
	}
	// Only now's UTC day matters, so a generation at any time of the same day gives the same
	// rows. It is bound as the number of the first day of data, counted from 1970-01-01.
	firstDay := now.UTC().Unix()/86400 - Days
	if err := exec(ctx, generateSQL, firstDay, int64(rows)); err != nil {
		return fmt.Errorf("demo: generating %d sales rows: %w", rows, err)
	}
	return nil
}

// growth shapes volume over time: the density of sales at fraction x of the span is
// proportional to 1 + growth*x.
const growth = 1.5

// generateSQL is built once from the constants above; it takes no request input. Parameters:
// 1 the first day of data as days since 1970-01-01 (UTC), 2 the row count.
//
// u1..u9 are independent uniform numbers in [0, 1) from hash(16*row + k): the top 53 bits of the
// 64-bit hash divided by 2^53, so 1.0 is impossible.
var generateSQL = `CREATE TABLE sales AS
WITH u AS (
	SELECT range AS i,` + uniforms(9) + `
	FROM range(CAST($2 AS BIGINT))
), pick AS (
	SELECT i,
		` + pickIndex("u1", regionWeights) + ` AS r,
		` + pickIndex("u2", departmentWeights) + ` AS d,
		` + pickIndex("u3", productWeights()) + ` AS p,
		-- customers: low numbers are the big accounts
		CAST(floor(` + fmt.Sprint(Customers) + ` * pow(u4, 1.8)) AS INTEGER) + 1 AS c,
		-- day by inverse transform sampling of the linear growth density
		least(CAST(floor(` + fmt.Sprint(Days) + ` * (sqrt(1 + 2 * ` + ftoa(growth) + ` * (1 + ` + ftoa(growth/2) + `) * u5) - 1) / ` + ftoa(growth) + `) AS INTEGER), ` + fmt.Sprint(Days-1) + `) AS day_no,
		-- 80% of sales between 08:00 and 18:00, the rest at any hour
		CAST(floor(CASE WHEN u6 < 0.8 THEN 28800 + u7 * 36000 ELSE u7 * 86400 END) AS INTEGER) AS second_of_day,
		-- quantity: exponential, so mostly 1 or 2 with a long tail
		1 + CAST(floor(-ln(1 - u8) * 1.2) AS INTEGER) AS qty,
		u9
	FROM u
), timed AS (
	-- Dates are computed as whole days since 1970-01-01 (UTC) rather than with TIMESTAMPTZ
	-- arithmetic, which goes through the time-zone calendar for every row and is many times
	-- slower. Day 0 was a Thursday, so (epoch_day + 4) % 7 is 0 on Sundays, 6 on Saturdays.
	SELECT *, CAST($1 AS BIGINT) + day_no AS epoch_day
	FROM pick
)
SELECT
	i + 1 AS id,
	make_timestamp((epoch_day * 86400 + second_of_day) * 1000000) AS ts,
	CAST(` + listOf(Regions) + `[r] AS ` + enumOf(Regions) + `) AS region,
	CAST(` + listOf(Departments) + `[d] AS ` + enumOf(Departments) + `) AS department,
	CAST(` + listOf(productNames()) + `[p] AS ` + enumOf(productNames()) + `) AS product,
	CAST('Customer ' || lpad(CAST(c AS VARCHAR), 4, '0') AS ` + enumOf(customerNames()) + `) AS customer,
	CAST(round(
		` + floatList(productPrices()) + `[p]
		* qty
		* ` + floatList(departmentSpend) + `[d]
		* (0.85 + 0.3 * u9)
		-- seasonality: +20% in mid-December, -20% in mid-June (a year is 365.2425 days)
		* (1 + 0.2 * cos(2 * pi() * (epoch_day - 348) / 365.2425))
		-- weekends are quieter
		* CASE WHEN (epoch_day + 4) % 7 IN (0, 6) THEN 0.75 ELSE 1 END
	, 2) AS DECIMAL(12, 2)) AS amount
FROM timed
-- Stored clustered by department, the column row-level security filters on, as a multi-tenant
-- table would be: DuckDB's zone maps then skip other departments' row groups.
ORDER BY department, ts`

func uniforms(n int) string {
	var b strings.Builder
	for k := 1; k <= n; k++ {
		if k > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n\t\tCAST(hash(range * 16 + %d) >> 11 AS DOUBLE) / 9007199254740992.0 AS u%d", k, k)
	}
	return b.String()
}

// pickIndex returns SQL choosing a 1-based index from the uniform column u with the given
// (unnormalised) weights.
func pickIndex(u string, weights []float64) string {
	var total float64
	for _, w := range weights {
		total += w
	}
	var b strings.Builder
	b.WriteString("CASE")
	var cum float64
	for i, w := range weights[:len(weights)-1] {
		cum += w / total
		fmt.Fprintf(&b, " WHEN %s < %s THEN %d", u, ftoa(cum), i+1)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(weights))
	return b.String()
}

func listOf(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + strings.ReplaceAll(n, "'", "''") + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func floatList(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = "CAST(" + ftoa(f) + " AS DOUBLE)"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func ftoa(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		panic("demo: non-finite constant")
	}
	return fmt.Sprintf("%g", f)
}

func productWeights() []float64 {
	ws := make([]float64, len(Products))
	for i, p := range Products {
		ws[i] = p.Weight
	}
	return ws
}

func productNames() []string {
	ns := make([]string, len(Products))
	for i, p := range Products {
		ns[i] = p.Name
	}
	return ns
}

func productPrices() []float64 {
	ps := make([]float64, len(Products))
	for i, p := range Products {
		ps[i] = p.Price
	}
	return ps
}

// customerNames are all customer names, for the customer column's ENUM type.
func customerNames() []string {
	names := make([]string, Customers)
	for i := range names {
		names[i] = CustomerName(i + 1)
	}
	return names
}

// enumOf is a DuckDB ENUM type of the names: grouping and filtering on small dictionaries is
// several times faster than on VARCHAR. Its values are declared in alphabetical order, since an
// ENUM sorts by declaration order and viewers expect options and ties sorted by name.

func enumOf(names []string) string {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	return "ENUM(" + strings.Trim(listOf(sorted), "[]") + ")"
}
