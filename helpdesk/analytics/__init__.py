"""Customer models over the warehouse: lifetime value (BG/NBD with Gamma-Gamma) and churn risk
(a logistic regression), each validated on a hold-out period, with rules as the fallback."""
