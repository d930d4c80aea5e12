"""Blender side of Optica (the engine lands with issue 3)."""


def register():
    pass


def unregister():
    pass
