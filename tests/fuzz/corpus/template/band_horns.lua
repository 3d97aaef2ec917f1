-- band_horns.lua: the band plus a horn section, composed from band.lua.
--
-- `extends` starts from another template (a name under share/templates, or
-- a path relative to this file) and changes it: scalar fields and
-- take_policy fields override; a track named as one of the base's changes
-- only the fields given; other tracks, groups and sections are added;
-- remove_tracks / remove_sections take some away first. A section named as
-- one of the base's labels ("Chorus 3") or names ("Chorus") changes its
-- length; one with after = LABEL or before = LABEL is inserted there.
return {
  extends = "band",
  name = "Band plus horns",
  description = "The four-piece band with trumpet, saxophone and trombone",
  tracks = {
    { name = "Trumpet", input = 14 },
    { name = "Sax", input = 15 },
    { name = "Trombone", input = 16 },
    { name = "BGV", pan = 0.3 },                 -- only the field given changes
  },
  groups = {
    { name = "Horns", tracks = { "Trumpet", "Sax", "Trombone" } },
  },
  sections = {
    { "Horn Solo", 8, after = "Bridge" },
    { "Outro", 8 },                              -- a longer outro for the horn riff
  },
  take_policy = { passes = 4 },                  -- the rest as in band.lua
}
