"""The node definitions, one module per category of Blender's Add menu. Importing this
package registers them all (registry.define)."""

from . import converters, inputs, outputs, shaders, textures, vectors, world  # noqa: F401
