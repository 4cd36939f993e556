package demo
import ("testing";"time";"strings";"github.com/inlay/inlay/internal/datasource/duckdb")
func TestDbgTime(t *testing.T) {
	for _, v := range []struct{name, from, to string}{{"full","",""},{"nocust","'Customer ' || lpad(CAST(c AS VARCHAR), 4, '0')","c"},{"noround","CAST(round(","(("}} {
	for _, rows := range []int{2_000_000, 2_000_000, 10_000_000} {
		src, _ := duckdb.Open(t.Context(), duckdb.Config{})
		q := generateSQL
		if v.from != "" { q = strings.Replace(q, v.from, v.to, 1); if v.name=="noround" { q = strings.Replace(q, ", 2) AS DECIMAL(12, 2))", "))", 1) } }
		st := time.Now()
		if err := src.Exec(t.Context(), q, int64(20000), int64(rows)); err != nil { t.Fatal(err) }
		t.Log(v.name, rows, time.Since(st))
		src.Close()
	}}
}
