"""The reference: a bare FastAPI endpoint answering constant JSON, served the same way."""

from fastapi import FastAPI

app = FastAPI()

ANSWER = {"totals": {"length_m": 110.0, "area_m2": 770.0, "total": "123456789"}, "items": []}


@app.post("/estimates")
def constant() -> dict:
    return ANSWER
