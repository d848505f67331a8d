"""The API's routes by audience, one Chalice blueprint each (registered in functions/api/app.py)."""
