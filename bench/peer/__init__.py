"""Side-by-side benchmark: ours against the peer (django-helpdesk) and against a floor (a bare
Flask app doing one INSERT), alternated in one run and reported as ratios.

Run with `python -m bench peer`; see docs/benchmarks.md.
"""
