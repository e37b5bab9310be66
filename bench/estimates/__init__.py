"""Measuring the wait estimator on recorded and generated days.

``trace_replay`` rebuilds the hall from a day's trace and runs the estimator and the classic
predictors on it; ``gen_day`` generates days (it uses ``trace_replay`` for the baselines);
``replay_lab`` scores the estimator on given or generated days (it uses both).
"""
