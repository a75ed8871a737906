"""servicematch's domain and inference core: load a trained model and recommend services.

    from recommender import load
    rec = load("models/")
    result = rec.recommend(profile={"age": 67, "district": "D04", "needs": ["eldercare", "food"]}, k=5)
"""
from .engine import Recommender, load

__all__ = ["Recommender", "load"]
