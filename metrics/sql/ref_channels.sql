-- ref_channels: every channel with its names.
SELECT channel, name, name_en FROM channels ORDER BY channel
