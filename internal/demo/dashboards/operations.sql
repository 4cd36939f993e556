-- Order lines for the operations dashboard. Row-level security is declared in
-- operations.yaml (rls), so this query needs no viewer value of its own.
SELECT id, ts, region, department, product, customer, amount
FROM sales
