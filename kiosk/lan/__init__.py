"""The hall web app served by the kiosk on the hall network: the counter caller, the floor guide and their JSON API."""
