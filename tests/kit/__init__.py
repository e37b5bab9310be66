"""The tests' equipment, one copy of each: the sample hall's settings and paths (``settings``), a
scripted or seeded hall on a real engine (``daysim``), and a process that drives the queue and
reports what it committed (``queue_worker``). Fixtures live in the conftest files and use these."""
