"""HTTP plumbing shared by the kiosk's two web servers, the HQ dashboard (`kiosk.hq.web`) and the
hall web app (`kiosk.lan`): `http_limits` (request-head deadlines, connection caps, body limits).
It imports nothing else of `kiosk`, so either server may use it without reaching the other."""
