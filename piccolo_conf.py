from survey.piccolo_conf import *  # noqa: F403
