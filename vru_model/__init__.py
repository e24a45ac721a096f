"""VRU Workbench: plan a Violence Reduction Unit's spending under an uncertain grant."""

from vru_model.core.errors import Problem, ScenarioError
from vru_model.scenario.load import load_scenario
from vru_model.scenario.schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario"]
__version__ = "0.1.0"
