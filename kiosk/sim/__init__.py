"""The simulated world around the kiosk, for the simulated day, the soak, the benchmarks, the HQ
screenshots and the tests: a real mosquitto (``broker``), free loopback ports (``net``), one
poll-until-true (``waiting``), stopping a child process and the kiosk as a process
(``processes``), HQ's subscriber (``hq_subscriber``), the day and the soak (``day``) and the
dashboard screenshots (``hq_screenshots``). The serial devices at the far ends of the cables
are the fakes of ``drivers.fakes``.
"""
