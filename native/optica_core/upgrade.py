"""The version-1 scene dictionary in version-2 terms (docs/scene-dict.md, "Version 1").

A version-1 material (a flat Principled BSDF with an optional base-colour texture) becomes a
Principled BSDF node whose inputs hold its values, the texture an Image Texture node linked to
Base Color (with the texture's interpolation and extension), the world colour a Background
node; version-1 textures lose their interpolation and extension (node settings in version
2). A sphere set with per-sphere colours, which replaced its material's base colour in
version 1, gets a copy of that material reading the colours through a Color Attribute node.
The functions take sections already checked against the version-1 rules and return raw
version-2 sections that the version-2 validation then normalises.
"""

from __future__ import annotations

PRINCIPLED = "Principled BSDF"
IMAGE = "Image Texture"
OUTPUT = "Material Output"
POINT_COLORS = "Color Attribute"

_PRINCIPLED_INPUTS = {  # version-1 key -> Principled BSDF input
    "base_color": "Base Color", "metallic": "Metallic", "roughness": "Roughness", "ior": "IOR",
    "specular": "Specular IOR Level", "transmission": "Transmission Weight", "emission_color": "Emission Color",
    "emission_strength": "Emission Strength", "alpha": "Alpha",
}
_INTERPOLATION = {"linear": "Linear", "closest": "Closest"}
_EXTENSION = {"repeat": "REPEAT", "extend": "EXTEND", "clip": "CLIP"}


def material_graph(material: dict, textures: dict) -> dict:
    """The node graph of a (validated) version-1 material; `textures`: the version-1 textures."""
    inputs = {socket: material[key] for key, socket in _PRINCIPLED_INPUTS.items()}
    nodes = {
        PRINCIPLED: {"type": "ShaderNodeBsdfPrincipled", "inputs": inputs},
        OUTPUT: {"type": "ShaderNodeOutputMaterial", "params": {"is_active_output": True}},
    }
    links = [[PRINCIPLED, "BSDF", OUTPUT, "Surface"]]
    texture = material["base_color_texture"]
    if texture is not None:
        t = textures[texture]
        nodes[IMAGE] = {"type": "ShaderNodeTexImage",
                        "params": {"image": texture, "interpolation": _INTERPOLATION[t["interpolation"]],
                                   "extension": _EXTENSION[t["extension"]]}}
        links.append([IMAGE, "Color", PRINCIPLED, "Base Color"])
    return {"nodes": nodes, "links": links, "output": OUTPUT}


def world_graph(world: dict) -> dict:
    return {"nodes": {"Background": {"type": "ShaderNodeBackground",
                                     "inputs": {"Color": world["color"], "Strength": world["strength"]}},
                      "World Output": {"type": "ShaderNodeOutputWorld"}},
            "links": [["Background", "Background", "World Output", "Surface"]],
            "output": "World Output"}


def texture(t: dict) -> dict:
    return {"pixels": t["pixels"], "colorspace": t["colorspace"], "alpha_mode": "STRAIGHT"}


def default_material_graph() -> dict:
    """Cycles' default surface: a 0.8 grey Diffuse BSDF."""
    return {"nodes": {"Diffuse BSDF": {"type": "ShaderNodeBsdfDiffuse", "inputs": {"Color": (0.8, 0.8, 0.8)}},
                      OUTPUT: {"type": "ShaderNodeOutputMaterial", "params": {"is_active_output": True}}},
            "links": [["Diffuse BSDF", "BSDF", OUTPUT, "Surface"]],
            "output": OUTPUT}


def point_color_graph(graph: dict | None) -> dict:
    """A copy of an upgraded material (None: the default material) whose base colour comes
    from the per-sphere colours."""
    graph = default_material_graph() if graph is None else graph
    target = (PRINCIPLED, "Base Color") if PRINCIPLED in graph["nodes"] else ("Diffuse BSDF", "Color")
    nodes = dict(graph["nodes"])
    nodes[POINT_COLORS] = {"type": "ShaderNodeVertexColor", "params": {"layer_name": ""}}
    links = [list(link) for link in graph["links"] if (link[2], link[3]) != target]
    links.append([POINT_COLORS, "Color", *target])
    return {"nodes": nodes, "links": links, "output": graph["output"]}


def point_color_name(name: str | None, taken) -> str:
    base = f"{name or '(default)'} (point colors)"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base} {n}", n + 1
    return candidate
