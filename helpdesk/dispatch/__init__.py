"""Field-service dispatch: work orders, technicians, suggested assignment, day routes, visit SMS."""
