"""datamodules/formats"""
